"""Claim checks: contact details are asked of the services that own them, when needed.

Every call runs outside any database transaction (the dispatcher commits first) and
under a deadline, so an unavailable service delays messages instead of freezing the
dispatcher. Answers are cached for one dispatcher round only; nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

import eventlet
from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.exceptions import RemoteError

log = logging.getLogger(__name__)


class ResolutionError(Exception):
    """Another service could not tell us what we needed (yet): retry later."""


class Resolver(Protocol):
    def reporter_contact(self, concern_id: str) -> dict[str, Any] | None: ...
    def prefetch_reporter_contacts(self, concern_ids: Iterable[str | None]) -> None: ...
    def beat_contacts(self, beat_code: str) -> dict[str, list[dict[str, Any]]]: ...
    def beat_exists(self, beat_code: str) -> bool: ...
    def agency_contact(self, agency_id: str) -> dict[str, Any] | None: ...
    def webhook_endpoints(self, agency_id: str) -> list[dict[str, Any]]: ...
    def disable_webhook(self, endpoint_id: str, reason: str) -> None: ...
    def invitation_link(self, invitation_id: str) -> dict[str, Any] | None: ...


class RpcResolver:
    """The agreed RPC methods of concerns, referrals and surveys, with deadlines and a round cache."""

    def __init__(self, concerns: Any, referrals: Any, surveys: Any, timeout: float) -> None:
        self._proxies = {"concerns": concerns, "referrals": referrals, "surveys": surveys}
        self._timeout = timeout
        self._cache: dict[tuple[str, str, str], Any] = {}

    def _call(self, service: str, method: str, *args: Any, cache: bool = True) -> Any:
        key = (service, method, "\x1f".join(map(str, args)))
        if cache and key in self._cache:
            return self._cache[key]
        try:
            with eventlet.Timeout(self._timeout):
                answer = getattr(self._proxies[service], method)(*args)
        except eventlet.Timeout:
            raise ResolutionError(f"{service}.{method} did not answer within {self._timeout:g}s") from None
        except RemoteError as error:
            raise ResolutionError(f"{service}.{method} failed: {error.exc_type}") from error
        except (OSError, KombuError, AMQPError) as error:
            # The broker is unreachable (e.g. restarting): the question could not even be asked.
            raise ResolutionError(f"{service}.{method} could not be asked: {type(error).__name__}") from error
        if cache:
            self._cache[key] = answer
        return answer

    def reporter_contact(self, concern_id: str) -> dict[str, Any] | None:
        return self._call("concerns", "reporter_contact", concern_id)

    def prefetch_reporter_contacts(self, concern_ids: Iterable[str | None]) -> None:
        """Ask concerns about all these reporters in one call and keep the answers for the round,
        so that `reporter_contact` does not ask once per message. Best effort: if the batch
        cannot be answered (e.g. an older concerns without the method), each is asked alone."""
        wanted = [
            concern_id
            for concern_id in dict.fromkeys(concern_ids)
            if isinstance(concern_id, str) and ("concerns", "reporter_contact", concern_id) not in self._cache
        ]
        if len(wanted) < 2:
            return
        try:
            answers = self._call("concerns", "reporter_contacts", wanted, cache=False)
        except ResolutionError as error:
            log.info("reporter contacts not prefetched, asking one by one: %s", error)
            return
        if not isinstance(answers, dict):
            return
        for concern_id in wanted:
            if concern_id in answers:
                self._cache[("concerns", "reporter_contact", concern_id)] = answers[concern_id]

    def beat_contacts(self, beat_code: str) -> dict[str, list[dict[str, Any]]]:
        return self._call("concerns", "beat_contacts", beat_code) or {"officers": [], "supervisors": []}

    def beat_exists(self, beat_code: str) -> bool:
        return bool(self._call("concerns", "beat_exists", beat_code))

    def agency_contact(self, agency_id: str) -> dict[str, Any] | None:
        return self._call("referrals", "agency_contact", agency_id)

    def webhook_endpoints(self, agency_id: str) -> list[dict[str, Any]]:
        return self._call("referrals", "webhook_endpoints", agency_id) or []

    def disable_webhook(self, endpoint_id: str, reason: str) -> None:
        self._call("referrals", "disable_webhook", endpoint_id, reason, cache=False)

    def invitation_link(self, invitation_id: str) -> dict[str, Any] | None:
        return self._call("surveys", "invitation_link", invitation_id)
