"""The surveys service's entrypoints (thin: parse, call the domain, answer)."""

from __future__ import annotations

from beat_shared.db import Database
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from surveys.models import Base


class SurveysService(PlatformEndpoints):
    name = "surveys"

    db = Database(Base.metadata)
    outbox = Outbox()
