"""Who is asking: principals, receipt tokens and versions, turned into domain terms."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Request

from beat_shared.auth import Principal
from beat_shared.errors import Conflict, InvalidInput, PermissionDenied, Unauthenticated
from concerns import store
from concerns.domain.workflow import Actor
from concerns.models import Concern, Support

RECEIPT_HEADER = "X-Receipt-Token"


def receipt_token(request: Request) -> str | None:
    token = request.headers.get(RECEIPT_HEADER, "").strip()
    return token or None


def actor_for(session: Session, principal: Principal) -> Actor:
    beats = store.beats_of(session, principal.subject) if principal.role == "officer" else frozenset()
    return Actor(principal.subject, principal.role, beats)


def is_reporter(concern: Concern, principal: Principal | None, token: str | None) -> bool:
    if principal is not None and principal.role == "resident" and concern.reporter_subject == principal.subject:
        return True
    return token is not None and store.token_hash(token) == concern.receipt_token_hash


def audience(session: Session, concern: Concern, principal: Principal | None, token: str | None) -> str:
    """'staff' or 'resident' for whoever may read the concern's private view; raises otherwise."""
    if principal is not None and actor_for(session, principal).may_manage(concern.beat_code):
        return "staff"
    if is_reporter(concern, principal, token):
        return "resident"
    if principal is None and token is None:
        raise Unauthenticated("sign in, or send the concern's receipt token in X-Receipt-Token")
    raise PermissionDenied("this concern is not yours to read; its public view is at /public/concerns/{id}")


def reporter_actor(concern: Concern, principal: Principal | None, token: str | None) -> Actor:
    if not is_reporter(concern, principal, token):
        if principal is None and token is None:
            raise Unauthenticated("sign in, or send the concern's receipt token in X-Receipt-Token")
        raise PermissionDenied("only the resident who raised a concern may withdraw it")
    subject = principal.subject if principal is not None and principal.role == "resident" else "receipt-holder"
    return Actor(subject, "resident", is_reporter=True)


def known_token(session: Session, token: str) -> bool:
    """A receipt token we issued, or a supporter token already used for a "me too"."""
    digest = store.token_hash(token)
    if session.scalars(select(Concern.id).where(Concern.receipt_token_hash == digest)).first():
        return True
    return session.scalars(select(Support.id).where(Support.supporter_key == f"token:{digest}")).first() is not None


def expected_version(request: Request, from_body: int | None) -> int | None:
    """The version the client saw: the body's `version`, or the If-Match header (an ETag).

    Both given and different is a 409 like any stale version (docs/decisions/0005): at most one
    of them can be the current version, and guessing which one the client meant could
    overwrite a change it never saw."""
    from_header = _if_match_version(request)
    if from_body is not None and from_header is not None and from_body != from_header:
        raise Conflict(
            f"If-Match names version {from_header} but the body says version {from_body}",
            {"version": ["must agree with If-Match"]},
        )
    return from_body if from_body is not None else from_header


def _if_match_version(request: Request) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    tag = header.removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        raise InvalidInput("If-Match must be the ETag of the concern you read", {"If-Match": ["not a version"]})


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def query_args(request: Request, schema: Schema) -> dict[str, Any]:
    """Query parameters through a schema; empty parameters count as absent."""
    return schema.load({key: value for key, value in request.args.items() if value.strip()})
