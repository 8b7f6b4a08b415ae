"""Property-based tests (hypothesis): the Open311 form parser and the event envelope parser
answer every input with a result or a client error, never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from beat_shared.contracts import parse_event
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.errors import BeatError, ContractViolation, InvalidInput
from concerns import open311
from concerns.commands import Submission
from concerns.domain.workflow import Status

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIELDS = [
    "service_code",
    "description",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "media_url",
    "device_id",
    "account_id",
    "language",
    "locale",
    "attribute[WHEN]",
    "attribute[KIND][]",
    "api_key",
    "jurisdiction_id",
]
text = st.text(max_size=60)
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers().map(str))
values = st.one_of(text, numbers, st.sampled_from(["", " ", "nan", "inf", "-0", "1e400", "noise", "a@b.co"]))
forms = st.lists(st.tuples(st.one_of(st.sampled_from(FIELDS), text), values), max_size=25).map(MultiDict)


@SETTINGS
@given(forms)
def test_any_open311_form_is_a_submission_or_a_named_client_error(form):
    try:
        submission = open311.submission_from_form(form)
    except InvalidInput as error:
        assert error.details, "an Open311 error names the field"
        return
    assert isinstance(submission, Submission) and submission.category
    for coordinate in (submission.lat, submission.long):
        assert coordinate is None or (coordinate == coordinate and abs(coordinate) != float("inf"))
    assert submission.language in ("en", "es")
    assert len(submission.description) <= 4000


@SETTINGS
@given(st.binary(max_size=300))
def test_any_form_body_is_parsed_strictly_or_refused(raw):
    try:
        pairs = open311._parse_urlencoded(raw)
    except InvalidInput:
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in pairs)


date_texts = st.one_of(
    text,
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda moment: moment.isoformat()),
    st.builds(
        lambda day, hours, minutes, sign: f"{day.isoformat()}T00:00:00{sign}{hours:02d}:{minutes:02d}",
        st.dates(),
        st.integers(0, 23),
        st.integers(0, 59),
        st.sampled_from("+-"),
    ),
)
windows = st.fixed_dictionaries({}, optional={"start_date": date_texts, "end_date": date_texts})


@SETTINGS
@given(windows)
def test_any_date_window_is_utc_bounded_or_refused(args):
    try:
        start, end = open311.date_window(args, NOW)
    except InvalidInput:
        return
    # PostgreSQL accepts offsets only up to ±15:59, and the span is at most 90 days.
    assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
    assert start <= end and end - start <= open311.WINDOW


@SETTINGS
@given(st.fixed_dictionaries({}, optional={"status": text, "service_code": text, "service_request_id": text}))
def test_any_request_filter_is_understood_or_refused(args):
    try:
        statuses = open311.status_filter(args)
    except InvalidInput:
        statuses = None
    assert statuses is None or statuses <= {status.value for status in Status}
    for name in ("service_code", "service_request_id"):
        found = open311.comma_list(args, name)
        assert found is None or all(part and part == part.strip() for part in found)


# --- the event envelope -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)
envelope_keys = ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema", "data"]
near_envelopes = st.dictionaries(st.sampled_from(envelope_keys) | text, json_values, max_size=10)


@SETTINGS
@given(st.one_of(st.binary(max_size=200), text, json_values, near_envelopes, near_envelopes.map(json.dumps)))
def test_any_event_body_is_a_valid_event_or_a_contract_violation(body):
    try:
        event = parse_event(body)
    except ContractViolation as violation:
        assert isinstance(violation, BeatError) and violation.message
        return
    assert isinstance(event, CloudEvent)  # only a complete, valid envelope gets here
