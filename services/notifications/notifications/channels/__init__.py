"""Transports: each turns one prepared delivery into an `Outcome`; none touches the database."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt achieved.

    `status` is delivered, temporary_failure (retry later) or permanent_failure.
    `retry_after` (seconds) is a floor for the next attempt the receiver asked for;
    `disable_endpoint` is set when a webhook endpoint answered 410 Gone.
    """

    status: str
    error: str | None = None
    status_code: int | None = None
    retry_after: float | None = None
    throttle: bool = False
    disable_endpoint: bool = False

    @classmethod
    def delivered(cls, status_code: int | None = None) -> Outcome:
        return cls("delivered", status_code=status_code)

    @classmethod
    def temporary(cls, error: str, status_code: int | None = None, **extra: object) -> Outcome:
        return cls("temporary_failure", error, status_code, **extra)  # type: ignore[arg-type]

    @classmethod
    def permanent(cls, error: str, status_code: int | None = None, **extra: object) -> Outcome:
        return cls("permanent_failure", error, status_code, **extra)  # type: ignore[arg-type]
