"""schemathesis against every service's OpenAPI document, over real HTTP.

Each service runs in-process on a fresh database with its demo data, once on SQLite and once
on PostgreSQL (with the other three beside it, as in production). For every operation,
schemathesis generates requests that fit the document (positive) and requests that break it
(negative), sent with a token of a role the endpoint lets in (and anonymously where auth is
optional). Path parameters are sometimes replaced with identifiers that exist, so generated
requests reach real rows and not only 404s.

Requirements: no 5xx, every status documented, every response body matching its schema
(formats too) and its documented content type, and no timestamp anywhere in a JSON answer
without its offset (SQLite hands back naive datetimes unless a column says UTC). Failures are
collected across all operations and reported together, each with a curl command to reproduce it.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from security_world import AGENCY_A, SERVICES, bearer, known_values

# A date-time without an offset ("2026-01-05T09:00:00"): what SQLite's naive datetimes serialise to.
NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


@schemathesis.check
def timestamps_carry_their_offset(ctx: Any, response: Any, case: Any) -> bool | None:
    """Also where an answer is not described field by field (a free-form object, an undocumented body)."""
    media_type = " ".join(response.headers.get("content-type", [])).split(";")[0].strip()
    if not (media_type == "application/json" or media_type.endswith("+json")) or not response.content:
        return None  # only whole JSON documents (an NDJSON body is one per line)
    naive = [text for text in strings_in(response.json()) if NAIVE_TIMESTAMP.match(text)]
    if naive:
        raise AssertionError(f"timestamps without an offset: {naive[:3]}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    timestamps_carry_their_offset,
]

# Examples per operation and backend: bounded so that the security suite, which now runs on SQLite and
# on PostgreSQL, stays near its old time (10 and 5 on one backend then; 7 and 3 on each of two now).
EXAMPLES = {GenerationMode.POSITIVE: 7, GenerationMode.NEGATIVE: 3}

# The token each role's requests carry (subjects from the demo data).
ROLE_TOKENS: dict[str, tuple[str, str | None]] = {
    "admin": ("admin-1", None),
    "supervisor": ("supervisor-1", None),
    "officer": ("officer-rv02", None),
    "resident": ("resident-demo-2", None),
    "agency": ("agency-user-a", AGENCY_A),
    "analyst": ("analyst-1", None),
}


def token_choices(operation: Any) -> list[dict[str, str]]:
    """Headers to send: a role the endpoint lets in (admin when it may), anonymous when optional."""
    raw = operation.definition.raw
    roles = raw.get("x-roles") or ["resident"]
    role = "admin" if "admin" in roles else roles[0]
    subject, agency = ROLE_TOKENS[role]
    headers = [bearer(role, subject, agency)]
    if {} in raw.get("security", [{}]):  # auth optional or none
        headers.append({})
    return headers


def describe(error: BaseException) -> tuple[str, str]:
    """(the failed checks' titles, a report with the reproduction command)."""
    failures = getattr(error, "exceptions", [error])
    titles = " | ".join(str(getattr(failure, "title", type(failure).__name__)) for failure in failures)
    messages = "\n      ".join(str(getattr(failure, "message", failure))[:400] for failure in failures)
    curl = re.findall(r"curl [^\n]*", str(error))
    return titles, f"{titles}\n      {messages}\n      {curl[0][:800] if curl else ''}"


def exercise(operation: Any, mode: GenerationMode, base_url: str, known: dict[str, list[Any]]) -> tuple[int, dict]:
    """Run one operation's generated cases; returns (cases sent, {failure title: report})."""
    failures: dict[str, str] = {}
    sent = 0
    headers = token_choices(operation)

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: Any) -> None:
        nonlocal sent
        for name in list(case.path_parameters or {}):
            if known.get(name) and data.draw(st.booleans(), label=f"real {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(known[name]), label=name)
        sent += 1
        try:
            case.call_and_validate(base_url=base_url, headers=data.draw(st.sampled_from(headers)), checks=CHECKS)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collected, reported at the end
            title, report = describe(error)
            failures.setdefault(title, report)

    with contextlib.suppress(Unsatisfiable):  # nothing in this operation can be made invalid (negative mode)
        run()
    return sent, failures


def test_every_operation_of_every_service_answers_without_server_errors_and_as_documented(world):
    """One world for the four services (starting it is the slow part); problems of all reported together."""
    known = known_values(world)
    problems: list[str] = []
    for service in SERVICES:
        document = world.call(service, "GET", "/openapi.json").json()
        operations = [result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()]
        assert len(operations) == sum(len(verbs) for verbs in document["paths"].values())
        sent = 0
        for operation in operations:
            for mode in EXAMPLES:
                count, failures = exercise(operation, mode, world.urls[service], known[service])
                sent += count
                problems += [f"{service} {operation.label} ({mode.value}): {report}" for report in failures.values()]
        print(f"\nschemathesis {schemathesis.__version__}: {service}: {len(operations)} operations, {sent} requests")
        assert sent >= len(operations) * 5, f"too few requests reached {service}"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
