"""What the notifications service's endpoint groups share: the dependencies the service class
declares, the resolver that asks concerns, referrals and surveys, and the checks made with it."""

from __future__ import annotations

import logging
from typing import Any

from beat_shared.clock import Clock
from beat_shared.db import Database
from beat_shared.errors import InvalidInput, PermissionDenied
from beat_shared.outbox import Outbox
from notifications.rendering import Renderer
from notifications.resolver import ResolutionError, RpcResolver
from notifications.settings import Settings

PEOPLE = ("resident", "officer", "supervisor")
READERS_OF_THE_LOG = ("admin", "supervisor")
JSON_ERROR = {"application/json": {"schema": "Error"}}
RENDERER = Renderer()

log = logging.getLogger(__name__)


class ServiceParts:
    """Declared on `NotificationsService`; the groups use them as its workers see them."""

    db: Database
    outbox: Outbox
    clock: Clock
    settings: Settings
    config: dict[str, Any]
    concerns: Any
    referrals: Any
    surveys: Any

    def resolver(self) -> RpcResolver:
        return RpcResolver(self.concerns, self.referrals, self.surveys, self.settings.rpc_timeout)

    def require_known_beat(self, beat_code: str) -> None:
        """Concerns owns the beats. When it cannot say, the subscription is kept: following an
        unknown beat only ever means receiving nothing, and a resident should not be turned away."""
        try:
            known = self.resolver().beat_exists(beat_code)
        except ResolutionError as error:
            log.warning("subscription to %s kept unchecked: %s", beat_code, error)
            return
        if not known:
            raise InvalidInput(f"there is no beat {beat_code}", {"beat_code": ["unknown beat"]})

    def require_assignment(self, subject: str, beat_code: str) -> None:
        """Officers alert only the subscribers of beats they are assigned to (concerns owns the
        assignments); when concerns cannot say, the broadcast is refused rather than let through."""
        try:
            officers = self.resolver().beat_contacts(beat_code)["officers"]
        except ResolutionError:
            raise PermissionDenied("your assignment to this beat cannot be confirmed right now; try again later")
        if subject not in {officer.get("subject") for officer in officers}:
            raise PermissionDenied(f"only officers of {beat_code} (or supervisors) may broadcast to it")
