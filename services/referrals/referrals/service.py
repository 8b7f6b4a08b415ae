"""The referrals service's entrypoints (thin: parse, call the domain, answer).

An agency directory in the Open Referral HSDS 3.0 API shape, closed-loop referrals
with consent, agency access, timers for deadlines and retention, and the RPCs the
notifications service uses to reach agencies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from marshmallow import Schema
from nameko.dependency_providers import Config
from nameko.exceptions import MethodNotFound, UnknownService
from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.auth import Principal
from beat_shared.clock import ClockProvider
from beat_shared.contracts import CloudEvent
from beat_shared.db import Database, existing, page_of
from beat_shared.entrypoints import BeatRpcProxy, rpc, timer
from beat_shared.errors import InvalidInput, NotFound, PermissionDenied
from beat_shared.http import http, idempotent_create, json_response, ndjson_response, page_body, page_request, read_json
from beat_shared.inbox import event_handler
from beat_shared.isotime import parse_utc
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from beat_shared.roles import ADMINS, OFFICERS, STAFF
from beat_shared.settings_provider import SettingsProvider
from referrals import commands, directory, hsds, provisioning, queries, webhooks
from referrals import metrics as service_metrics
from referrals.domain.actors import Actor
from referrals.domain.lifecycle import ACCEPTED, COMPLETED, DECLINED, IN_PROGRESS, AgencyAnswer
from referrals.hsds.transfer import export_directory, import_directory
from referrals.models import IDEMPOTENCY_KEYS, Base, Organization, Referral, Service
from referrals.reporting import outcome_report
from referrals.schemas import (
    AuditQuery,
    CancelInput,
    ConsentInput,
    DeclineInput,
    HsdsDocument,
    ListQuery,
    LocationInput,
    MatchQuery,
    NoteInput,
    OrganizationInput,
    OrganizationsQuery,
    OutcomeInput,
    ReferralInput,
    ReferralOutput,
    ReferralPatch,
    ReferralsQuery,
    ReportQuery,
    ServiceAtLocationsQuery,
    ServiceInput,
    ServicesQuery,
    StatusInput,
    TaxonomyInput,
    TaxonomyTermInput,
    TaxonomyTermsQuery,
    WebhookInput,
    WebhookOutput,
    WithdrawInput,
)
from referrals.settings import ReferralSettings

# OpenAPI tags: the groups of the API reference.
DIRECTORY_TAGS = ["directory (HSDS 3.0)"]
REFERRAL_TAGS = ["referrals"]
AGENCY_TAGS = ["agency"]
ADMINISTRATION_TAGS = ["administration"]
# Each group of endpoints says once who may call it and where the API reference lists it.
hsds_read = partial(http, auth="none", tags=DIRECTORY_TAGS)
directory_admin = partial(http, roles=ADMINS, tags=ADMINISTRATION_TAGS)
officer_endpoint = partial(http, roles=OFFICERS, tags=REFERRAL_TAGS)
# Officers making or changing a referral: the answer is the referral as they may see it.
referral_change = partial(officer_endpoint, response_schema=ReferralOutput)
agency_endpoint = partial(http, roles=("agency",), tags=AGENCY_TAGS)
agency_admin_endpoint = partial(http, roles=("admin", "agency"), tags=AGENCY_TAGS)

log = logging.getLogger(__name__)


class _Dependencies:
    """What every endpoint group uses: the service's dependencies and the unit of work."""

    db = Database(Base.metadata)
    outbox = Outbox()
    clock = ClockProvider()
    config = Config()
    concerns = BeatRpcProxy("concerns")
    settings = SettingsProvider(ReferralSettings)


class DirectoryEndpoints(_Dependencies):
    """The HSDS 3.0 directory: the public read API, its administration and matching."""

    # --- HSDS read API -----------------------------------------------------------------------

    @hsds_read("GET", "/")
    def index(self, request: Request) -> Response:
        """HSDS API version information and this service's index

        HSDS's API information (JSON), with the index every Beat service has; HTML for a browser."""
        hsds_info = {
            "version": hsds.HSDS_VERSION,
            "profile": hsds.HSDS_PROFILE,
            "openapi_url": f"{self.settings.public_url}/openapi.json",
        }
        return self.platform.index(request, type(self), hsds_info)

    def _listing(self, request: Request, criteria: dict[str, Any], query: Any, render: Any) -> Response:
        """A page of `query` in the HSDS paging shape, or with `format=ndjson` every row, one a line."""
        if criteria["format"] == "ndjson":
            return ndjson_response(render(row) for row in self.db.scalars(query).unique())
        page = page_request(request.args)
        rows, total = page_of(self.db, query, page.offset, page.size)
        return json_response(page_body([render(row) for row in rows], total, page))

    def _filtered_listing(self, request: Request, schema: type[Schema], query_for: Any, render: Any) -> Response:
        """The listing of `query_for(criteria)`, the criteria read from the query string by `schema`."""
        criteria = schema().load(request.args.to_dict())
        return self._listing(request, criteria, query_for(criteria), render)

    @hsds_read("GET", "/services", query_schema=ServicesQuery)
    def list_services(self, request: Request) -> Response:
        """Search services

        Filter by `search` (name, description, organization, need category), `taxonomy_term_id`,
        `taxonomy_id`, `organization_id` and `modified_after`; paged with `page` and `per_page`.
        `full=true` nests everything; `minimal=true` gives only `id` and `last_modified`."""
        criteria = ServicesQuery().load(request.args.to_dict())
        query = directory.services_query(
            directory.ServiceFilter(
                **{key: criteria.get(key) for key in ("search", "taxonomy_term_id", "taxonomy_id", "organization_id")},
                modified_after=parse_utc(criteria["modified_after"]) if criteria.get("modified_after") else None,
            )
        )
        if criteria["minimal"]:
            render = _minimal_service
        else:
            query = query.options(*directory.service_options())
            render = partial(hsds.service_dict, full=criteria["full"])
        return self._listing(request, criteria, query.order_by(Service.name, Service.id), render)

    @hsds_read("GET", "/services/<service_id>")
    def get_service(self, request: Request, service_id: str) -> Response:
        """A fully nested service"""
        return json_response(hsds.service_dict(directory.get_service(self.db, service_id)))

    @hsds_read("GET", "/organizations", query_schema=OrganizationsQuery)
    def list_organizations(self, request: Request) -> Response:
        """Organizations (agencies)

        `full_service=true` (or `full=true`) nests each organization's services."""
        criteria = OrganizationsQuery().load(request.args.to_dict())
        query = queries.organizations(criteria)
        nested = criteria["full_service"] or criteria["full"]
        render = partial(hsds.organization_dict, with_services=nested)
        return self._listing(request, criteria, query, render)

    @hsds_read("GET", "/organizations/<organization_id>")
    def get_organization(self, request: Request, organization_id: str) -> Response:
        """An organization with its services"""
        organization = directory.get_organization(self.db, organization_id)
        return json_response(hsds.organization_dict(organization, with_services=True))

    @hsds_read("GET", "/taxonomies", query_schema=ListQuery)
    def list_taxonomies(self, request: Request) -> Response:
        """Taxonomies"""
        return self._filtered_listing(request, ListQuery, queries.taxonomies, hsds.taxonomy_dict)

    @hsds_read("GET", "/taxonomies/<taxonomy_id>")
    def get_taxonomy(self, request: Request, taxonomy_id: str) -> Response:
        """A taxonomy"""
        return json_response(hsds.taxonomy_dict(queries.taxonomy(self.db, taxonomy_id)))

    @hsds_read("GET", "/taxonomy_terms", query_schema=TaxonomyTermsQuery)
    def list_taxonomy_terms(self, request: Request) -> Response:
        """Taxonomy terms (need categories)

        Filter by `taxonomy_id`, `parent_id`, `search`; `top_only=true` for terms without a parent."""
        return self._filtered_listing(request, TaxonomyTermsQuery, queries.taxonomy_terms, hsds.term_dict)

    @hsds_read("GET", "/taxonomy_terms/<term_id>")
    def get_taxonomy_term(self, request: Request, term_id: str) -> Response:
        """A taxonomy term"""
        return json_response(hsds.term_dict(queries.taxonomy_term(self.db, term_id)))

    @hsds_read("GET", "/service_at_locations", query_schema=ServiceAtLocationsQuery)
    def list_service_at_locations(self, request: Request) -> Response:
        """Services at their locations

        Filter by `service_id`, `location_id`, `organization_id`, `taxonomy_term_id` or `search`."""
        render = partial(hsds.service_at_location_dict, with_service=True)
        return self._filtered_listing(request, ServiceAtLocationsQuery, queries.service_at_locations, render)

    @hsds_read("GET", "/service_at_locations/<link_id>")
    def get_service_at_location(self, request: Request, link_id: str) -> Response:
        """A service at a location"""
        link = queries.service_at_location(self.db, link_id)
        return json_response(hsds.service_at_location_dict(link, with_service=True))

    @hsds_read("GET", "/hsds/export")
    def export_hsds(self, request: Request) -> Response:
        """The whole directory as one HSDS 3.0 document"""
        return json_response(export_directory(self.db))

    # --- directory administration ------------------------------------------------------------

    @directory_admin("POST", "/hsds/import", request_schema=HsdsDocument)
    def import_hsds(self, request: Request) -> Response:
        """Import an HSDS 3.0 document (upsert by id)"""
        document = read_json(request, HsdsDocument)
        counts = import_directory(self.db, document, self.clock.now())
        return json_response({"imported": counts})

    @directory_admin("POST", "/organizations", request_schema=OrganizationInput, status=201)
    def create_organization(self, request: Request) -> Response:
        """Create an organization (agency)"""
        data = read_json(request, OrganizationInput)
        if data.get("id") and self.db.get(Organization, data["id"]) is not None:
            raise InvalidInput("an organization with this id exists", {"id": ["already exists"]})
        organization = directory.upsert_organization(self.db, data, self.clock.now())
        return json_response(hsds.organization_dict(organization), status=201)

    @directory_admin("PATCH", "/organizations/<organization_id>", request_schema=OrganizationInput)
    def edit_organization(self, request: Request, organization_id: str) -> Response:
        """Edit an organization"""
        data = read_json(request, OrganizationInput, partial=True)
        directory.get_organization(self.db, organization_id)
        organization = directory.upsert_organization(self.db, {**data, "id": organization_id}, self.clock.now())
        return json_response(hsds.organization_dict(organization))

    @directory_admin("POST", "/locations", request_schema=LocationInput, status=201)
    def create_location(self, request: Request) -> Response:
        """Create a location"""
        data = read_json(request, LocationInput)
        if data.get("id") and self.db.get(directory.Location, data["id"]) is not None:
            raise InvalidInput("a location with this id exists", {"id": ["already exists"]})
        location = directory.upsert_location(self.db, data)
        self.db.flush()
        return json_response(hsds.location_dict(location), status=201)

    @directory_admin("PATCH", "/locations/<location_id>", request_schema=LocationInput)
    def edit_location(self, request: Request, location_id: str) -> Response:
        """Edit a location"""
        data = read_json(request, LocationInput, partial=True)
        existing(self.db, directory.Location, location_id, "location")
        location = directory.upsert_location(self.db, {**data, "id": location_id})
        self.db.flush()
        return json_response(hsds.location_dict(location))

    @directory_admin("POST", "/services", request_schema=ServiceInput, status=201)
    def create_service(self, request: Request) -> Response:
        """Create a service

        Nested phones, schedules, languages, service areas, `taxonomy_term_ids` and `location_ids`."""
        data = read_json(request, ServiceInput)
        if data.get("id") and self.db.get(Service, data["id"]) is not None:
            raise InvalidInput("a service with this id exists", {"id": ["already exists"]})
        service = directory.upsert_service(self.db, data, self.clock.now())
        self.db.expire_all()
        return json_response(hsds.service_dict(directory.get_service(self.db, service.id)), status=201)

    @directory_admin("PATCH", "/services/<service_id>", request_schema=ServiceInput)
    def edit_service(self, request: Request, service_id: str) -> Response:
        """Edit a service (lists given replace)"""
        data = read_json(request, ServiceInput, partial=True)
        data.pop("id", None)
        service = directory.get_service(self.db, service_id)
        directory.upsert_service(self.db, data, self.clock.now(), service=service)
        self.db.expire_all()
        return json_response(hsds.service_dict(directory.get_service(self.db, service_id)))

    @directory_admin("POST", "/taxonomies", request_schema=TaxonomyInput, status=201)
    def create_taxonomy(self, request: Request) -> Response:
        """Create a taxonomy"""
        taxonomy = directory.upsert_taxonomy(self.db, read_json(request, TaxonomyInput))
        self.db.flush()
        return json_response(hsds.taxonomy_dict(taxonomy), status=201)

    @directory_admin("POST", "/taxonomy_terms", request_schema=TaxonomyTermInput, status=201)
    def create_taxonomy_term(self, request: Request) -> Response:
        """Create a taxonomy term (need category)"""
        term = directory.upsert_term(self.db, read_json(request, TaxonomyTermInput))
        self.db.flush()
        self.db.refresh(term)
        return json_response(hsds.term_dict(term), status=201)

    @directory_admin("PATCH", "/taxonomy_terms/<term_id>", request_schema=TaxonomyTermInput)
    def edit_taxonomy_term(self, request: Request, term_id: str) -> Response:
        """Edit a taxonomy term"""
        data = read_json(request, TaxonomyTermInput, partial=True)
        queries.taxonomy_term(self.db, term_id)
        term = directory.upsert_term(self.db, {**data, "id": term_id})
        self.db.flush()
        self.db.refresh(term)
        return json_response(hsds.term_dict(term))

    # --- matching ----------------------------------------------------------------------------

    @http("GET", "/match", roles=STAFF, query_schema=MatchQuery, tags=REFERRAL_TAGS)
    def match(self, request: Request) -> Response:
        """Services for a need near a place or in a beat

        Active services for `need_category` near `latitude`/`longitude` or in `beat_code`, that speak
        `language` and take clients of `age`; ordered by availability and distance."""
        query = MatchQuery().load(request.args.to_dict())
        for paging in ("page", "per_page"):
            query.pop(paging, None)
        matches = directory.match_services(
            self.db, directory.MatchRequest(**query), self.clock.now(), self.settings.timezone
        )
        return json_response(
            {
                "contents": [
                    {
                        "service": hsds.service_dict(m.service, full=False),
                        "location": hsds.location_dict(m.location) if m.location else None,
                        "distance_km": m.distance_km,
                        "open_now": m.open_now,
                        "accepting_referrals": m.service.accepting_referrals,
                        "languages": [language.code for language in m.service.languages],
                    }
                    for m in matches
                ]
            }
        )


class ReferralEndpoints(_Dependencies):
    """Referrals with consent: drafted and sent by officers, answered by agencies."""

    def _referral(self, request: Request, referral_id: str) -> tuple[Actor, Referral]:
        """Who asks, and the referral they name if they may see it (404 otherwise)."""
        actor = _actor(request.principal)
        return actor, queries.get_referral(self.db, actor, referral_id)

    def _answer(
        self, actor: Actor, referral: Referral, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        """The referral as the actor may see it (a read of the client's details is audit-logged)."""
        return json_response(queries.referral_view(self.db, self.clock.now(), actor, referral), status, headers)

    # --- referrals: officers -----------------------------------------------------------------

    @idempotent_create(referral_change, "/referrals", request_schema=ReferralInput)
    def create_referral(self, request: Request) -> Response:
        """Draft a referral to a service

        The client's details and, optionally, their consent; it is sent with POST /referrals/{id}/send."""
        actor, now = _actor(request.principal), self.clock.now()
        body = read_json(request, ReferralInput)

        def make() -> Referral:
            return commands.create_referral(self.db, now, self.outbox.add, actor, body)

        done = idempotency.once(self.db, IDEMPOTENCY_KEYS, request, body, now, make, id_of=lambda made: made.id)
        referral = done.made or queries.get_referral(self.db, actor, done.resource_id)
        return self._answer(actor, referral, 201, done.headers)

    @http("GET", "/referrals", roles=(*STAFF, "agency"), query_schema=ReferralsQuery, tags=REFERRAL_TAGS)
    def list_referrals(self, request: Request) -> Response:
        """Referrals (agencies: their own)

        No personal data here; read one referral to see the client's details."""
        criteria = ReferralsQuery().load(request.args.to_dict())
        page = page_request(request.args)
        query = queries.referrals(_actor(request.principal), criteria)
        rows, total = page_of(self.db, query, page.offset, page.size)
        return json_response(page_body([queries.referral_summary(r) for r in rows], total, page))

    @http(
        "GET", "/referrals/<referral_id>", roles=(*STAFF, "agency"), response_schema=ReferralOutput, tags=REFERRAL_TAGS
    )
    def get_referral(self, request: Request, referral_id: str) -> Response:
        """A referral (the details_url of events)

        Agencies see the client's details only while consent is valid; every such read is audit-logged."""
        return self._answer(*self._referral(request, referral_id))

    @referral_change("PATCH", "/referrals/<referral_id>", request_schema=ReferralPatch)
    def edit_referral(self, request: Request, referral_id: str) -> Response:
        """Edit a draft referral"""
        data = read_json(request, ReferralPatch)
        actor, referral = self._referral(request, referral_id)
        commands.update_draft(self.db, self.clock.now(), self.outbox.add, referral, data)
        return self._answer(actor, referral)

    @officer_endpoint("POST", "/referrals/<referral_id>/consent", request_schema=ConsentInput, status=201)
    def record_consent(self, request: Request, referral_id: str) -> Response:
        """Record the client's consent to share with the agency"""
        data = read_json(request, ConsentInput)
        actor, referral = self._referral(request, referral_id)
        now = self.clock.now()
        consent = commands.record_consent(self.db, now, actor, referral, data)
        return json_response(queries.consent_view(consent, now), status=201)

    @referral_change("POST", "/referrals/<referral_id>/send", conflict="no valid consent, or not a draft")
    def send_referral(self, request: Request, referral_id: str) -> Response:
        """Send a draft to its agency (409 without valid consent)"""
        actor, referral = self._referral(request, referral_id)
        commands.send(self.db, self.settings, self.clock.now(), self.outbox.add, actor, referral)
        return self._answer(actor, referral)

    @officer_endpoint("POST", "/referrals/<referral_id>/cancel", request_schema=CancelInput)
    def cancel_referral(self, request: Request, referral_id: str) -> Response:
        """Cancel a referral"""
        reason = read_json(request, CancelInput)["reason"]
        actor, referral = self._referral(request, referral_id)
        commands.cancel(self.db, self.clock.now(), self.outbox.add, actor, referral, reason)
        return json_response(queries.referral_summary(referral))

    @http("GET", "/consents/<consent_id>", roles=STAFF, tags=REFERRAL_TAGS)
    def get_consent(self, request: Request, consent_id: str) -> Response:
        """A consent record"""
        return json_response(queries.consent_view(queries.get_consent(self.db, consent_id), self.clock.now()))

    @http("POST", "/consents/<consent_id>/withdraw", roles=STAFF, request_schema=WithdrawInput, tags=REFERRAL_TAGS)
    def withdraw_consent(self, request: Request, consent_id: str) -> Response:
        """Withdraw consent: stop all sharing

        Agencies are told with `beat.consent.withdrawn` and can no longer read the client's details."""
        method = read_json(request, WithdrawInput)["method"]
        consent, now = queries.get_consent(self.db, consent_id), self.clock.now()
        told = commands.withdraw_consent(self.db, now, self.outbox.add, _actor(request.principal), consent, method)
        return json_response({**queries.consent_view(consent, now), "agencies_told": sorted(told)})

    # --- referrals: agencies -----------------------------------------------------------------

    def _agency_moves(self, request: Request, referral_id: str, answer: AgencyAnswer) -> Response:
        actor, referral = self._referral(request, referral_id)
        commands.change_status(self.db, self.clock.now(), self.outbox.add, actor, referral, answer)
        return json_response(queries.referral_summary(referral))

    @agency_endpoint("POST", "/referrals/<referral_id>/accept")
    def accept_referral(self, request: Request, referral_id: str) -> Response:
        """Accept a referral"""
        return self._agency_moves(request, referral_id, AgencyAnswer(ACCEPTED))

    @agency_endpoint("POST", "/referrals/<referral_id>/decline", request_schema=DeclineInput)
    def decline_referral(self, request: Request, referral_id: str) -> Response:
        """Decline a referral with a reason"""
        body = read_json(request, DeclineInput)
        answer = AgencyAnswer(DECLINED, reason=body["reason"], note=body.get("note"))
        return self._agency_moves(request, referral_id, answer)

    @agency_endpoint("POST", "/referrals/<referral_id>/start")
    def start_referral(self, request: Request, referral_id: str) -> Response:
        """Mark a referral in progress"""
        note = read_json(request, NoteInput).get("note") if request.get_data() else None
        return self._agency_moves(request, referral_id, AgencyAnswer(IN_PROGRESS, note=note))

    @agency_endpoint("POST", "/referrals/<referral_id>/outcome", request_schema=OutcomeInput)
    def record_outcome(self, request: Request, referral_id: str) -> Response:
        """Complete with an outcome"""
        body = read_json(request, OutcomeInput)
        answer = AgencyAnswer(COMPLETED, outcome=body["outcome"], note=body.get("note"))
        return self._agency_moves(request, referral_id, answer)

    @agency_endpoint(
        "POST", "/referrals/<referral_id>/status", request_schema=StatusInput, conflict="illegal transition"
    )
    def update_status(self, request: Request, referral_id: str) -> Response:
        """Update status (legal moves only)"""
        body = read_json(request, StatusInput)
        answer = AgencyAnswer(body["status"], body.get("reason"), body.get("outcome"), body.get("note"))
        return self._agency_moves(request, referral_id, answer)


class AgencyIntegrationEndpoints(_Dependencies):
    """How an agency's own systems hear of referrals: its AMQP feed and webhooks."""

    # --- webhooks ----------------------------------------------------------------------------

    @agency_endpoint("GET", "/agencies/me/integration")
    def my_integration(self, request: Request) -> Response:
        """My agency's machine integration, read-only: its webhook endpoints and its AMQP feed's names

        What an agency's own systems connect to; never a secret or a password (shown once elsewhere)."""
        agency_id = request.principal.agency_id
        if not agency_id:
            raise PermissionDenied("an agency token names its agency (agency_id)")
        now = self.clock.now()
        endpoints = [webhooks.endpoint_view(e, now) for e in webhooks.endpoints_for(self.db, agency_id)]
        feed = provisioning.feed_names(self.config["AMQP_URI"], agency_id)
        return json_response({"agency_id": agency_id, "webhooks": endpoints, "amqp": feed})

    @agency_admin_endpoint(
        "POST", "/agencies/<agency_id>/webhooks", request_schema=WebhookInput, response_schema=WebhookOutput, status=201
    )
    def register_webhook(self, request: Request, agency_id: str) -> Response:
        """Register a webhook endpoint (its secret is shown once)"""
        _own_agency(request.principal, agency_id)
        self._known_agency(agency_id)
        body = read_json(request, WebhookInput)
        settings, now = self.settings, self.clock.now()
        endpoint = webhooks.register(
            self.db, agency_id, body["url"], body.get("description"), now, settings.webhooks_allow_http
        )
        return json_response({**webhooks.endpoint_view(endpoint, now), "secret": endpoint.secrets[0].secret}, 201)

    @agency_admin_endpoint("GET", "/agencies/<agency_id>/webhooks")
    def list_webhooks(self, request: Request, agency_id: str) -> Response:
        """An agency's webhook endpoints"""
        _own_agency(request.principal, agency_id)
        now = self.clock.now()
        return json_response(
            {"contents": [webhooks.endpoint_view(e, now) for e in webhooks.endpoints_for(self.db, agency_id)]}
        )

    @agency_admin_endpoint("POST", "/agencies/<agency_id>/webhooks/<endpoint_id>/rotate", response_schema=WebhookOutput)
    def rotate_webhook_secret(self, request: Request, agency_id: str, endpoint_id: str) -> Response:
        """Rotate the signing secret (old ones keep signing for a while)"""
        _own_agency(request.principal, agency_id)
        endpoint = webhooks.endpoint_of(self.db, agency_id, endpoint_id)
        now = self.clock.now()
        secret = webhooks.rotate(self.db, endpoint, now, self.settings.secret_overlap)
        return json_response({**webhooks.endpoint_view(endpoint, now), "secret": secret.secret})

    @agency_admin_endpoint("DELETE", "/agencies/<agency_id>/webhooks/<endpoint_id>")
    def delete_webhook(self, request: Request, agency_id: str, endpoint_id: str) -> Response:
        """Disable a webhook endpoint"""
        _own_agency(request.principal, agency_id)
        endpoint = webhooks.endpoint_of(self.db, agency_id, endpoint_id)
        webhooks.disable(endpoint, f"removed by {request.principal.subject}", self.clock.now())
        return json_response(webhooks.endpoint_view(endpoint, self.clock.now()))

    def _known_agency(self, agency_id: str) -> Organization:
        organization = directory.organization_for_agency(self.db, agency_id)
        if organization is None:
            raise NotFound(f"agency {agency_id} is not in the directory")
        return organization


class ReportEndpoints(_Dependencies):
    """The audit of client-detail reads and the outcome report."""

    # --- audit and reporting -----------------------------------------------------------------

    @directory_admin("GET", "/audit-log", query_schema=AuditQuery)
    def audit_log(self, request: Request) -> Response:
        """Reads of client personal data"""
        criteria = AuditQuery().load(request.args.to_dict())
        page = page_request(request.args)
        query = queries.audit_entries(criteria)
        rows, total = page_of(self.db, query, page.offset, page.size)
        return json_response(page_body([queries.audit_view(entry) for entry in rows], total, page))

    @http(
        "GET",
        "/reports/outcomes",
        roles=("supervisor", "admin", "analyst", "agency"),
        query_schema=ReportQuery,
        tags=REFERRAL_TAGS,
    )
    def outcomes_report(self, request: Request) -> Response:
        """Referral outcomes per agency or need category

        Sent, acceptance rate, median hours to accept, completion and outcomes; agencies see their own row."""
        criteria = ReportQuery().load(request.args.to_dict())
        query = queries.sent_referrals(_actor(request.principal), criteria.get("since"), criteria.get("until"))
        rows = outcome_report(self.db.scalars(query), criteria["group_by"])
        return json_response({"group_by": criteria["group_by"], "contents": rows})


class BackgroundEndpoints(_Dependencies):
    """Events from concerns, timers (beat map, deadlines, retention), metrics and the RPC others call."""

    # --- events, timers and RPC --------------------------------------------------------------

    @event_handler("concerns", "beat.referral.requested")
    def on_referral_requested(self, event: CloudEvent) -> None:
        """A draft for the officer's request, with the client's details fetched from concerns."""
        client = self.concerns.referral_client(event.data["request_id"])  # before opening a transaction
        commands.create_from_request(self.db, self.settings, self.clock.now(), self.outbox.add, event.data, client)

    # Not eager: a call fired while the container is still starting can wait forever for its reply.
    @timer(interval=60)
    def sync_beats(self) -> int:
        """Concerns is the single source of beats: copy its boundaries when they changed (checked every
        minute), so matching places points by the same polygons. Returns the beats copied."""
        known = directory.beat_map_version(self.db)
        self.db.rollback()  # no transaction stays open across the RPC (STACK.md: SQLite under eventlet)
        try:
            beat_map = self.concerns.beat_map(known)
        except (UnknownService, MethodNotFound):
            log.info("concerns does not answer beat_map yet; the beats stay as they are")
            return 0
        if beat_map is None:
            return 0
        return directory.replace_beat_map(self.db, beat_map, self.clock.now())

    @timer(interval=60)
    def check_deadlines(self) -> dict[str, int]:
        """Reminders, then expiry (and with it the supervisor alert) of unanswered referrals."""
        return commands.process_deadlines(self.db, self.settings, self.clock.now(), self.outbox.add)

    def refresh_service_gauges(self) -> None:
        """/metrics also counts the sent referrals nearing their answer-by time."""
        service_metrics.refresh_due_soon_gauge(self.db, self.clock.now())

    @timer(interval=3600)
    def erase_expired_personal_data(self) -> int:
        """Retention: erase client details of referrals closed longer than the retention period,
        and forget Idempotency-Keys older than a day."""
        erased = commands.erase_personal_data(self.db, self.settings, self.clock.now())
        idempotency.forget_expired(self.db, IDEMPOTENCY_KEYS, self.clock.now())
        return erased

    @rpc(read_only=True)
    def agency_contact(self, agency_id: str) -> dict[str, Any] | None:
        organization = directory.organization_for_agency(self.db, agency_id)
        if organization is None:
            return None
        phone = organization.phones[0].number if organization.phones else None
        return {
            "agency_id": organization.agency_id,
            "name": organization.name,
            "email": organization.email,
            "phone": phone,
            "language": organization.language,
        }

    @rpc(read_only=True)
    def webhook_endpoints(self, agency_id: str) -> list[dict[str, Any]]:
        now = self.clock.now()
        return [
            {
                "endpoint_id": endpoint.id,
                "url": endpoint.url,
                "secrets": [secret.secret for secret in webhooks.live_secrets(endpoint, now)],
                "active": endpoint.active,
            }
            for endpoint in webhooks.endpoints_for(self.db, agency_id)
        ]

    @rpc
    def disable_webhook(self, endpoint_id: str, reason: str) -> None:
        endpoint = self.db.get(webhooks.WebhookEndpoint, endpoint_id)
        if endpoint is not None:
            webhooks.disable(endpoint, reason, self.clock.now())


def _actor(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.role, principal.agency_id)


def _own_agency(principal: Principal, agency_id: str) -> None:
    if principal.role == "agency" and principal.agency_id != agency_id:
        raise PermissionDenied("agency users manage only their own agency's webhooks")


def _minimal_service(service: Service) -> dict[str, Any]:
    return {"id": service.id, "last_modified": service.last_modified}


class ReferralsService(
    DirectoryEndpoints,
    ReferralEndpoints,
    AgencyIntegrationEndpoints,
    ReportEndpoints,
    BackgroundEndpoints,
    PlatformEndpoints,
):
    """Agency directory (Open Referral HSDS 3.0) and closed-loop referrals with consent."""

    name = "referrals"
