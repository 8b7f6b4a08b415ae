"""The concerns service's entrypoints (thin: parse, call the domain, answer)."""

from __future__ import annotations

from beat_shared.db import Database
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from concerns.models import Base


class ConcernsService(PlatformEndpoints):
    name = "concerns"

    db = Database(Base.metadata)
    outbox = Outbox()
