"""Open311 GeoReport v2: formats, the spec's error shape, form parsing and the request filters.

Spec: https://wiki.open311.org/GeoReport_v2 (XML required, JSON by the "Spark convention").
We are liberal with old clients: `api_key` may come in the query string of a POST, an empty
parameter is the same as an absent one, `/service/{code}` works like `/services/{code}`, and
a client that asks for `.xml` while accepting only JSON gets JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from beat_shared.errors import InvalidInput, NotFound, PermissionDenied
from beat_shared.http import HttpEndpoint
from beat_shared.isotime import parse_utc
from concerns.commands import Submission
from concerns.domain.workflow import OPEN_STATUSES, Status
from concerns.schemas import MAX_DESCRIPTION
from concerns.settings import Settings

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
WINDOW = timedelta(days=90)
MAX_RESULTS = 1000

# XML element names of list items (the Spark convention maps a plural element to a JSON list).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}

_FORMAT_SUFFIX = re.compile(r"\.(json|xml)$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,30}$")


# --- formats ----------------------------------------------------------------------------


def response_format(request: Request, suffix: str | None = None) -> str:
    """json or xml: the path's suffix, unless the client accepts only JSON (old clients ask .xml)."""
    if suffix is None:
        match = _FORMAT_SUFFIX.search(request.path)
        suffix = match.group(1) if match else "xml"
    accept = request.headers.get("Accept", "")
    if suffix == "xml" and "json" in accept and "xml" not in accept and "*/*" not in accept:
        return "json"
    return suffix if suffix in FORMATS else "xml"


def served_format(request: Request, suffix: str) -> str:
    """The format a resource was asked in (its .xml or .json suffix); NotFound for any other."""
    if suffix not in FORMATS:
        raise NotFound(f"format {suffix!r} is not served; use .xml or .json")
    return response_format(request, suffix)


def _xml_element(tag: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_xml_element(key, child))
    elif isinstance(value, list):
        for child in value:
            element.append(_xml_element(ITEM_TAGS.get(tag, "item"), child))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def render(fmt: str, root: str, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A GeoReport answer: JSON as is, XML under `root` with list items named by ITEM_TAGS."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    else:
        element = _xml_element(root, payload)
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(element, encoding="utf-8")
        body = body.replace(b"<?xml version='1.0' encoding='utf-8'?>\n", b"")
    return Response(body, status=status, headers=dict(headers or {}), content_type=FORMATS[fmt])


def errors_from_beat_error(body: dict[str, Any], status: int) -> list[dict[str, Any]]:
    """Beat's JSON error shape as the spec's list of {code, description}, one per bad field."""
    error = body.get("error", {})
    details = error.get("details")
    if isinstance(details, dict) and details and status == 400:
        return [
            {"code": status, "description": f"{field}: {_flatten(messages)}"} for field, messages in details.items()
        ]
    return [{"code": status, "description": error.get("message") or "error"}]


def _flatten(messages: Any) -> str:
    if isinstance(messages, list):
        return "; ".join(_flatten(message) for message in messages)
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_flatten(value)}" for key, value in messages.items())
    return str(messages)


OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}


def _documented_responses() -> dict[str, Any]:
    """What the OpenAPI document says: JSON or XML (the path's suffix), errors in the spec's list shape."""
    errors = {"application/json": {"schema": OPEN311_ERRORS}, "text/xml": {}}
    answers: dict[str, Any] = {
        "200": {"description": "a GeoReport v2 answer", "content": {"application/json": {}, "text/xml": {}}}
    }
    for status, text in ((400, "invalid input"), (403, "missing or invalid api_key")):
        answers[str(status)] = {"description": text, "content": errors}
    # A path the router cannot match at all (a newline in it, say) never reaches Open311 code.
    either = {"oneOf": [OPEN311_ERRORS, {"$ref": "#/components/schemas/Error"}]}
    answers["404"] = {
        "description": "not found (in Beat's error shape when the router itself matched nothing)",
        "content": {"application/json": {"schema": either}, "text/xml": {}},
    }
    answers |= {
        "413": {"description": "body too large", "content": errors},
        "429": {"description": "too many submissions", "content": errors},
    }
    return answers


class Open311Endpoint(HttpEndpoint):
    """An HTTP entrypoint whose every error (ours, werkzeug's, the body limit) is in the spec's shape."""

    def __init__(self, method: str, url: str, **kwargs: Any) -> None:
        kwargs.setdefault("responses", _documented_responses())
        super().__init__(method, url, **kwargs)

    def handle_request(self, request: Request) -> Response:
        response = super().handle_request(request)
        if response.status_code < 400 or response.mimetype != "application/json":
            return response
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return response
        if not isinstance(body, dict) or "error" not in body:
            return response
        headers = {key: value for key, value in response.headers.items() if key in ("Retry-After", "X-Request-ID")}
        errors = errors_from_beat_error(body, response.status_code)
        return render(response_format(request), "errors", errors, response.status_code, headers)


open311_http = Open311Endpoint.decorator


def open311_resource(method: str, url: str, summary: str, **doc: Any) -> Any:
    """An Open311 entrypoint: public like every GeoReport resource (POST checks its api_key itself),
    documented under the open311 tag."""
    return open311_http(method, url, auth="none", summary=summary, tags=["open311"], **doc)


# --- parameters -------------------------------------------------------------------------


def present(args: Mapping[str, str], name: str) -> str | None:
    """A parameter's value, with empty meaning absent (the spec's "optional" rule)."""
    value = args.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def check_jurisdiction(args: Mapping[str, str], settings: Settings) -> None:
    jurisdiction = present(args, "jurisdiction_id")
    if jurisdiction is not None and jurisdiction != settings.jurisdiction_id:
        raise NotFound(
            f"jurisdiction_id {jurisdiction!r} was not found; this endpoint serves {settings.jurisdiction_id}"
        )


def read_form(request: Request) -> MultiDict[str, str]:
    """The POST parameters, strictly decoded (bad escapes or bytes are a 400, not mojibake),
    merged with the query string (old clients put api_key there)."""
    if request.mimetype == "multipart/form-data":
        form: MultiDict[str, str] = MultiDict(request.form)
    elif request.mimetype in ("application/x-www-form-urlencoded", ""):
        form = MultiDict(_parse_urlencoded(request.get_data(cache=True)))
    else:
        raise InvalidInput(
            "send the request as application/x-www-form-urlencoded",
            {"Content-Type": [f"{request.mimetype} is not a form encoding"]},
        )
    for key, value in request.args.items(multi=True):
        if key not in form:
            form.add(key, value)
    return form


def _parse_urlencoded(raw: bytes) -> list[tuple[str, str]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the form body is not valid UTF-8", {"body": ["not UTF-8"]})
    if _BAD_ESCAPE.search(text):
        raise InvalidInput("the form body has a broken percent-escape", {"body": ["broken %-encoding"]})
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=500)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidInput("the form body is not valid form encoding", {"body": [str(error)]})


def check_api_key(form: Mapping[str, str], settings: Settings) -> str:
    key = present(form, "api_key")
    if key is None:
        raise PermissionDenied("api_key is missing -- can't proceed with create_request")
    if key not in settings.open311_api_keys:
        raise PermissionDenied("Invalid api_key received -- can't proceed with create_request")
    return key


def _float(form: Mapping[str, str], name: str) -> float | None:
    raw = present(form, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number", {name: ["not a number"]})
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"{name} must be a number", {name: ["not a number"]})
    return value


def _attributes(form: MultiDict[str, str]) -> dict[str, Any]:
    """attribute[CODE]=v and, for multivaluelists, attribute[CODE][]=v1&attribute[CODE][]=v2."""
    answers: dict[str, Any] = {}
    for key in form:
        match = re.fullmatch(r"attribute\[([^\]]+)\](\[\])?", key)
        if not match:
            continue
        values = [value for value in form.getlist(key) if value != ""]
        if match.group(2):
            answers.setdefault(match.group(1), [])
            answers[match.group(1)] += values
        elif values:
            answers[match.group(1)] = values[0] if len(values) == 1 else values
    return answers


def submission_from_form(form: MultiDict[str, str]) -> Submission:
    """A Submission from the POST parameters; InvalidInput names the first bad field."""
    service_code = present(form, "service_code")
    if service_code is None:
        raise InvalidInput("service_code was not provided", {"service_code": ["required"]})
    description = present(form, "description") or ""
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("description is too long", {"description": [f"at most {MAX_DESCRIPTION} characters"]})
    media_url = present(form, "media_url")
    if media_url is not None and not re.match(r"^https?://[^\s]+$", media_url):
        raise InvalidInput("media_url must be an http(s) URL", {"media_url": ["not a URL"]})
    email = present(form, "email")
    if email is not None and not _EMAIL.match(email):
        raise InvalidInput("email is not an email address", {"email": ["not an email address"]})
    phone = present(form, "phone")
    if phone is not None and not _PHONE.match(phone):
        raise InvalidInput("phone is not a phone number", {"phone": ["not a phone number"]})
    names = [present(form, "first_name"), present(form, "last_name")]
    name = " ".join(part for part in names if part) or None
    for field, limit in (("address_string", 500), ("address_id", 100), ("device_id", 200), ("account_id", 200)):
        value = present(form, field)
        if value is not None and len(value) > limit:
            raise InvalidInput(f"{field} is too long", {field: [f"at most {limit} characters"]})
    language = present(form, "language") or present(form, "locale") or "en"
    return Submission(
        category=service_code,
        description=description,
        lat=_float(form, "lat"),
        long=_float(form, "long"),
        address=present(form, "address_string"),
        address_id=present(form, "address_id"),
        media_url=media_url,
        attributes=_attributes(form),
        language=language[:2].lower() if language[:2].lower() in ("en", "es") else "en",
        name=name,
        email=email,
        phone=phone,
        device_id=present(form, "device_id"),
        account_id=present(form, "account_id"),
        source="open311",
    )


# --- GET requests filters ---------------------------------------------------------------


def parse_datetime(raw: str, field: str) -> datetime:
    """A w3 date-time in UTC (PostgreSQL refuses offsets beyond ±15:59, Python accepts ±23:59);
    one without an offset is taken as UTC, one with no UTC equivalent is refused."""
    try:
        return parse_utc(raw.replace(" ", "+"))  # a "+" in a query string arrives as a space
    except (ValueError, OverflowError):
        raise InvalidInput(f"{field} must be a w3 date-time, e.g. 2010-01-01T00:00:00Z", {field: ["not a date-time"]})


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def date_window(args: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range: at most 90 days; the most recent 90 days by default."""
    start_raw, end_raw = present(args, "start_date"), present(args, "end_date")
    start = parse_datetime(start_raw, "start_date") if start_raw else None
    end = parse_datetime(end_raw, "end_date") if end_raw else None
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return (end - WINDOW if end - _EARLIEST > WINDOW else _EARLIEST), end
    if end is None:
        return start, (start + WINDOW if _LATEST - start > WINDOW else _LATEST)
    if end < start:
        raise InvalidInput("end_date is before start_date", {"end_date": ["must not be before start_date"]})
    if end - start > WINDOW:
        raise InvalidInput("start_date and end_date may not span more than 90 days", {"end_date": ["span > 90 days"]})
    return start, end


def status_filter(args: Mapping[str, str]) -> set[str] | None:
    """The workflow statuses matching status=open,closed (None means all)."""
    raw = present(args, "status")
    if raw is None:
        return None
    wanted = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise InvalidInput("status is open, closed or both", {"status": [f"unknown: {', '.join(sorted(unknown))}"]})
    statuses: set[str] = set()
    if "open" in wanted:
        statuses |= {status.value for status in OPEN_STATUSES}
    if "closed" in wanted:
        statuses |= {status.value for status in Status if status not in OPEN_STATUSES}
    return statuses


def comma_list(args: Mapping[str, str], name: str) -> list[str] | None:
    raw = present(args, name)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()] or None
