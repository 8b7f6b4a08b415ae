"""The notifications service's entrypoints (thin: parse, call the domain, answer)."""

from __future__ import annotations

from beat_shared.db import Database
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from notifications.models import Base


class NotificationsService(PlatformEndpoints):
    name = "notifications"

    db = Database(Base.metadata)
    outbox = Outbox()
