"""The concerns service's entrypoints for the city's reference data, an endpoint group of
ConcernsService (as PlatformEndpoints is): categories of concern, beats and their boundaries,
officers and their beats. Parse, call a command or a query, answer."""

from __future__ import annotations

from functools import partial
from typing import Any

from werkzeug.wrappers import Request, Response

from beat_shared.errors import InvalidInput
from beat_shared.fields import schema_instance
from beat_shared.http import http, json_response, read_json, read_json_object
from beat_shared.roles import ADMINS, MANAGERS, STAFF
from concerns import access, commands, queries, store, views
from concerns.domain.categories import patched_definition
from concerns.domain.translations import served_language
from concerns.endpoint_group import EndpointGroup
from concerns.models import Category
from concerns.schemas import (
    AssignmentInput,
    BeatPageOutput,
    CategoryInput,
    CategoryOutput,
    CategoryQuery,
    OfficerInput,
    OfficerOutput,
)

public_category = partial(http, auth="none", tags=["categories"])
admin_category = partial(http, roles=ADMINS, tags=["categories"])
public_beats = partial(http, auth="none", tags=["beats"])
managing_beats = partial(http, roles=MANAGERS, tags=["beats"])
admin_beats = partial(http, roles=ADMINS, tags=["beats"])


def body_for_path(request: Request, field: str, value: str) -> dict[str, Any]:
    """A JSON object whose `field` is the path's `value` (filled in when absent); 400 when it differs."""
    raw = read_json_object(request)
    if raw.setdefault(field, value) != value:
        raise InvalidInput(f"the body's {field} differs from the path's", {field: ["must match the path"]})
    return raw


def geojson_response(body: dict[str, Any]) -> Response:
    answer = json_response(body)
    answer.mimetype = "application/geo+json"
    return answer


class BeatEndpoints(EndpointGroup):
    """Categories (Open311 services), beats and the officers assigned to them."""

    # --- categories ----------------------------------------------------------------------

    @public_category("GET", "/categories", query_schema=CategoryQuery)
    def list_categories(self, request: Request) -> Response:
        """The categories of concern, in the language asked for (lang, else Accept-Language)"""
        rows = queries.active_categories(self.db, Category.group, Category.name)
        return json_response({"categories": [self._category_in_language(request, row) for row in rows]})

    @public_category("GET", "/categories/<code>", query_schema=CategoryQuery, response_schema=CategoryOutput)
    def get_category(self, request: Request, code: str) -> Response:
        """One category with its attributes, in the language asked for (lang, else Accept-Language)"""
        return json_response(self._category_in_language(request, queries.category(self.db, code)))

    def _category_in_language(self, request: Request, category: Category) -> dict[str, Any]:
        asked = access.query_args(request, CategoryQuery())["lang"]
        language = served_language(category.translations or {}, asked, request.headers.get("Accept-Language"))
        return views.category_view(category, language)

    @admin_category("PUT", "/categories/<code>", request_schema=CategoryInput, response_schema=CategoryOutput)
    def put_category(self, request: Request, code: str) -> Response:
        """Create or replace a category (Open311 service definition)"""
        body = schema_instance(CategoryInput).load(body_for_path(request, "code", code))
        return json_response(views.category_view(commands.save_category(self.db, self.clock.now(), body)))

    @admin_category("PATCH", "/categories/<code>", request_schema=CategoryInput, response_schema=CategoryOutput)
    def patch_category(self, request: Request, code: str) -> Response:
        """Change part of a category: a JSON Merge Patch (RFC 7396) of its definition; null removes a field"""
        patch = body_for_path(request, "code", code)
        merged = patched_definition(views.category_view(queries.category(self.db, code)), patch)
        body = schema_instance(CategoryInput).load({**merged, "code": code})  # checked as a PUT's body is
        return json_response(views.category_view(commands.save_category(self.db, self.clock.now(), body)))

    # --- beats and officers --------------------------------------------------------------

    @public_beats("GET", "/beats")
    def list_beats(self, request: Request) -> Response:
        """The beats"""
        return json_response({"beats": [views.beat_view(beat) for beat in queries.beats(self.db)]})

    @public_beats("GET", "/beats.geojson")
    def beats_geojson(self, request: Request) -> Response:
        """Beat boundaries as GeoJSON"""
        features = [views.beat_feature(beat) for beat in queries.beats(self.db)]
        return geojson_response({"type": "FeatureCollection", "features": features})

    @admin_beats(
        "POST",
        "/beats/import",
        responses={"415": {"description": "the body is not declared as JSON (send Content-Type: application/json)"}},
    )
    def import_beats(self, request: Request) -> Response:
        """Import beat boundaries from a GeoJSON FeatureCollection (properties code, name)"""
        return json_response(commands.import_beats(self.db, self.clock.now(), read_json_object(request)))

    @public_beats("GET", "/beats/<code>", response_schema=BeatPageOutput)
    def beat_page(self, request: Request, code: str) -> Response:
        """The beat page: officers, upcoming meetings, top open concerns, recently resolved"""
        return json_response(queries.beat_page(self.db, self.settings, code, self.clock.now()))

    @http("GET", "/me/beats", roles=STAFF, tags=["beats"])
    def my_beats(self, request: Request) -> Response:
        """The beats I work: an officer's assigned beats; every beat for supervisors and admins"""
        actor = self._actor(request)
        mine = [views.beat_view(beat) for beat in queries.beats(self.db) if actor.may_manage(beat.code)]
        return json_response({"beats": mine})

    @managing_beats("PUT", "/officers/<subject>", request_schema=OfficerInput, response_schema=OfficerOutput)
    def put_officer(self, request: Request, subject: str) -> Response:
        """Create or update an officer's public profile"""
        body = schema_instance(OfficerInput).load(body_for_path(request, "subject", subject))
        return json_response(views.officer_public(commands.save_officer(self.db, body)))

    @managing_beats("POST", "/beats/<code>/officers", request_schema=AssignmentInput, status=201)
    def assign_officer(self, request: Request, code: str) -> Response:
        """Assign an officer (or supervisor) to a beat"""
        body = read_json(request, AssignmentInput)
        commands.assign(self.db, self.clock.now(), code, body["subject"])
        officers = [views.officer_public(officer) for officer in store.beat_officers(self.db, code)]
        return json_response({"beat_code": code, "officers": officers}, status=201)

    @managing_beats("DELETE", "/beats/<code>/officers/<subject>", status=204)
    def unassign_officer(self, request: Request, code: str, subject: str) -> Response:
        """Unassign"""
        commands.unassign(self.db, code, subject)
        return Response(status=204)
