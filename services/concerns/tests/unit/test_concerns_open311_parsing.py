"""Unit tests of the Open311 edge: form parsing, filters, the 90-day window, XML rendering."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from beat_shared.errors import InvalidInput, NotFound, PermissionDenied
from concerns import open311
from concerns.settings import Settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = Settings.from_config(
    {"CONCERNS_OPEN311_API_KEYS": "k1,k2", "CONCERNS_OPEN311_JURISDICTION": "riverton.example"}
)


def form_request(body: bytes, query: str = "", content_type: str = "application/x-www-form-urlencoded"):
    builder = EnvironBuilder(
        method="POST", path="/open311/v2/requests.json", query_string=query, data=body, content_type=content_type
    )
    return Request(builder.get_environ())


def test_form_with_multivalued_attributes_and_names():
    request = form_request(
        b"api_key=k1&service_code=speeding_traffic&lat=43.04&long=-108.38&first_name=Ana&last_name=Bell"
        b"&attribute[time_of_day]=night&attribute[vehicle_types][]=car&attribute[vehicle_types][]=truck"
        b"&description=Racing+%26+revving&email=ana%40example.org"
    )
    form = open311.read_form(request)
    submission = open311.submission_from_form(form)
    assert submission.category == "speeding_traffic"
    assert (submission.lat, submission.long) == (43.04, -108.38)
    assert submission.name == "Ana Bell"
    assert submission.email == "ana@example.org"
    assert submission.description == "Racing & revving"
    assert submission.attributes == {"time_of_day": "night", "vehicle_types": ["car", "truck"]}
    assert submission.source == "open311"


def test_empty_parameters_are_absent():
    form = open311.read_form(form_request(b"service_code=noise&lat=&long=&address_string=Main+St&email=&device_id="))
    submission = open311.submission_from_form(form)
    assert submission.lat is None and submission.long is None and submission.email is None
    assert submission.address == "Main St"
    open311.check_jurisdiction({"jurisdiction_id": ""}, SETTINGS)


def test_api_key_from_the_query_string_of_a_post():
    form = open311.read_form(form_request(b"service_code=noise", query="api_key=k2"))
    assert open311.check_api_key(form, SETTINGS) == "k2"


@pytest.mark.parametrize("form", [{}, {"api_key": ""}, {"api_key": "wrong"}])
def test_missing_or_wrong_api_key_is_403(form):
    with pytest.raises(PermissionDenied):
        open311.check_api_key(form, SETTINGS)


def test_unknown_jurisdiction_is_404():
    with pytest.raises(NotFound):
        open311.check_jurisdiction({"jurisdiction_id": "elsewhere.gov"}, SETTINGS)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"service_code=noise&description=%ZZbad", "application/x-www-form-urlencoded"),
        (b"service_code=noise&description=%FF%FE", "application/x-www-form-urlencoded"),  # not UTF-8
        (b"service_code=noise&description=\xff", "application/x-www-form-urlencoded"),
        (b'{"service_code": "noise"}', "application/json"),
    ],
)
def test_broken_form_encoding_is_refused(body, content_type):
    with pytest.raises(InvalidInput):
        open311.read_form(form_request(body, content_type=content_type))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"lat=43&long=-108", "service_code"),
        (b"service_code=noise&lat=north&long=-108", "lat"),
        (b"service_code=noise&lat=nan&long=-108", "lat"),
        (b"service_code=noise&email=not-an-address", "email"),
        (b"service_code=noise&media_url=javascript:alert(1)", "media_url"),
        (b"service_code=noise&description=" + b"x" * 4001, "description"),
    ],
)
def test_bad_fields_are_named(body, field):
    with pytest.raises(InvalidInput) as caught:
        open311.submission_from_form(open311.read_form(form_request(body)))
    assert field in caught.value.details


def test_window_defaults_to_the_last_90_days():
    assert open311.date_window({}, NOW) == (NOW - timedelta(days=90), NOW)
    start, end = open311.date_window({"start_date": "2026-01-01T00:00:00Z"}, NOW)
    assert (start, end - start) == (datetime(2026, 1, 1, tzinfo=UTC), timedelta(days=90))
    start, end = open311.date_window({"end_date": "2026-02-01T00:00:00-05:00"}, NOW)
    assert end == datetime(2026, 2, 1, 5, tzinfo=UTC) and end - start == timedelta(days=90)


@pytest.mark.parametrize(
    "args",
    [
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},  # > 90 days
        {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},  # reversed
        {"start_date": "last tuesday"},
    ],
)
def test_bad_windows_are_400(args):
    with pytest.raises(InvalidInput):
        open311.date_window(args, NOW)


def test_status_filter_maps_open_and_closed_onto_the_workflow():
    assert open311.status_filter({"status": "open"}) == {"submitted", "acknowledged", "in_progress", "referred"}
    assert "resolved" in open311.status_filter({"status": "closed"})
    assert len(open311.status_filter({"status": "open,closed"})) == 8
    assert open311.status_filter({"status": ""}) is None
    with pytest.raises(InvalidInput):
        open311.status_filter({"status": "pending"})


def test_xml_rendering_follows_the_spark_convention():
    response = open311.render(
        "xml",
        "service_requests",
        [{"service_request_id": "a1", "status": "open", "lat": 43.0, "account_id": None, "metadata": True}],
    )
    assert response.content_type == "text/xml; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<service_requests>')
    root = ElementTree.fromstring(body)
    request = root.find("request")
    assert request.findtext("service_request_id") == "a1"
    assert request.findtext("lat") == "43.0"
    assert request.find("account_id").text is None
    assert request.findtext("metadata") == "true"


def test_an_xml_client_that_accepts_only_json_gets_json():
    request = Request(
        EnvironBuilder(path="/open311/v2/services.xml", headers={"Accept": "application/json"}).get_environ()
    )
    assert open311.response_format(request) == "json"
    request = Request(EnvironBuilder(path="/open311/v2/services.xml", headers={"Accept": "*/*"}).get_environ())
    assert open311.response_format(request) == "xml"
