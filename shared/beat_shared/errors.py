"""Domain errors every service raises; the HTTP layer maps them to statuses in one table."""

from __future__ import annotations

from typing import Any


class BeatError(Exception):
    """Base of the errors a client may see. `code` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(BeatError):
    code = "invalid_input"


class Unauthenticated(BeatError):
    code = "unauthenticated"


class PermissionDenied(BeatError):
    code = "forbidden"


class NotFound(BeatError):
    code = "not_found"


class Conflict(BeatError):
    code = "conflict"


class Unprocessable(BeatError):
    """Well-formed, but cannot be done as asked (e.g. an Idempotency-Key reused for another request)."""

    code = "unprocessable"


class PayloadTooLarge(BeatError):
    code = "payload_too_large"


class RateLimited(BeatError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


class ContractViolation(BeatError):
    """An event that does not match its published contract."""

    code = "contract_violation"
