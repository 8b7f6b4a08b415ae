"""What every endpoint group of ConcernsService works with: the dependencies the service class
declares (service.py), named once here so that each group's entrypoints can use them."""

from __future__ import annotations

from werkzeug.wrappers import Request

from beat_shared.clock import ClockProvider
from beat_shared.db import Database
from beat_shared.outbox import Outbox
from concerns import access
from concerns.dependencies import SubmissionLimiter
from concerns.domain.workflow import Actor
from concerns.reference import ReferenceCache
from concerns.settings import Settings


class EndpointGroup:
    """A part of ConcernsService's entrypoints (as PlatformEndpoints is); the service class provides these."""

    db: Database
    outbox: Outbox
    clock: ClockProvider
    settings: Settings
    limiter: SubmissionLimiter
    reference: ReferenceCache

    def _actor(self, request: Request) -> Actor:
        """The signed-in member of staff, with the beats they work."""
        return access.actor_for(self.db, request.principal)
