"""The surveys service's entrypoints (thin: parse, call the domain, answer).

Resident safety and trust surveys: versioned definitions over a standard item bank,
waves with one-time invitations and open links, anonymous responses, post-contact
follow-ups, results with intervals and small-cell suppression, the beat report card,
and the feeds dashboards read (JSON, CSV, /metrics, the dashboard page).
"""

from __future__ import annotations

import csv
import io
import logging
from functools import partial
from typing import Any

from werkzeug.wrappers import Request, Response

from beat_shared.clock import ClockProvider
from beat_shared.config import env
from beat_shared.contracts import CloudEvent
from beat_shared.db import Database
from beat_shared.entrypoints import BeatRpcProxy, rpc, timer
from beat_shared.fields import schema_instance
from beat_shared.http import http, json_response, page_body, page_request, read_json
from beat_shared.inbox import event_handler
from beat_shared.isotime import parse_iso
from beat_shared.metrics import exposition
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from beat_shared.service_index import Page
from beat_shared.settings_provider import SettingsProvider
from surveys import catalogue, commands, dashboard, feeds, queries, report_card
from surveys.domain.item_bank import CONSTRUCTS, ITEM_BANK
from surveys.domain.periods import quarter_of
from surveys.models import Base, Survey, Wave
from surveys.results import ResultQuery, compute_results, csv_rows, periods_in_window, periods_of
from surveys.schemas import (
    IssuedOutput,
    LanguageQuery,
    OpenResponseInput,
    PopulationInput,
    RecordedOutput,
    ReportCardOutput,
    ReportCardQuery,
    ReportCardsQuery,
    ResponseInput,
    ResultsPage,
    ResultsQuery,
    SurveyInput,
    SurveyOutput,
    TokenInput,
    WaveInput,
    WaveOutput,
)
from surveys.settings import SurveySettings

log = logging.getLogger(__name__)

SURVEY_MANAGERS = ("admin", "analyst")  # who design surveys, run waves and set populations
# Each group of endpoints says once who may call it and where the API reference lists it.
public_survey = partial(http, auth="none", tags=["surveys"])
survey_manager = partial(http, roles=SURVEY_MANAGERS, tags=["surveys"])
wave_manager = partial(http, roles=SURVEY_MANAGERS, tags=["waves"])
wave_reader = partial(http, roles=(*SURVEY_MANAGERS, "supervisor"), tags=["waves"])
responding = partial(http, auth="none", tags=["responding"])
public_results = partial(http, auth="none", tags=["results"])
results_manager = partial(http, roles=SURVEY_MANAGERS, tags=["results"])
dashboard_page = partial(http, auth="none", tags=["dashboard"])
RESULTS_EVENT_SECONDS = float(env("SURVEYS_RESULTS_EVENT_SECONDS"))


def _survey_body(survey: Survey) -> dict[str, Any]:
    return schema_instance(SurveyOutput).dump(survey)


class _Dependencies:
    """What every endpoint group uses: the service's dependencies."""

    db = Database(Base.metadata)
    outbox = Outbox()
    clock = ClockProvider()
    settings = SettingsProvider(SurveySettings)  # a minimum cell below 10 refuses to start
    notifications = BeatRpcProxy("notifications")


class DefinitionEndpoints(_Dependencies):
    """The item bank, survey definitions and their versions."""

    # --- definitions ----------------------------------------------------------------

    @public_survey("GET", "/item-bank")
    def item_bank(self, request: Request) -> Response:
        """The standard items and constructs

        Every standard item with its texts (en, es), type, construct and reverse coding."""
        return json_response({"constructs": CONSTRUCTS, "items": list(ITEM_BANK.values())})

    @survey_manager("POST", "/surveys", request_schema=SurveyInput, response_schema=SurveyOutput, status=201)
    def create_survey(self, request: Request) -> Response:
        """Create a survey, or the next version of one

        Questions may name item-bank items (`{"item": "safety_after_dark"}`); texts need en and es."""
        body = read_json(request, SurveyInput)
        survey = catalogue.create_survey_version(self.db, body, request.principal.subject, self.clock.now())
        return json_response(_survey_body(survey), status=201)

    @public_survey("GET", "/surveys")
    def list_surveys(self, request: Request) -> Response:
        """Surveys (latest versions)"""
        page = page_request(request.args)
        surveys, total = catalogue.list_latest(self.db, page.offset, page.size)
        return json_response(page_body([_survey_body(s) for s in surveys], total, page))

    @http("GET", "/surveys/<code>", auth="none", summary="A survey's latest version", response_schema=SurveyOutput)
    def get_survey(self, request: Request, code: str) -> Response:
        return json_response(_survey_body(catalogue.latest_version(self.db, code)))

    @public_survey("GET", "/surveys/<code>/versions/<int:version>", response_schema=SurveyOutput)
    def get_survey_version(self, request: Request, code: str, version: int) -> Response:
        """One version of a survey"""
        return json_response(_survey_body(catalogue.survey_version(self.db, code, version)))


class WaveEndpoints(_Dependencies):
    """Waves and their invitations (notifications sends them)."""

    # --- waves and invitations -----------------------------------------------------

    def _wave_body(self, wave: Wave) -> dict[str, Any]:
        body = schema_instance(WaveOutput).dump(wave)
        base = self.settings.public_url
        body["open_link_url"] = f"{base}/respond?open={wave.open_link_slug}" if wave.open_link_slug else None
        return body

    @wave_manager("POST", "/waves", request_schema=WaveInput, response_schema=WaveOutput, status=201)
    def create_wave(self, request: Request) -> Response:
        """Start a wave: a survey run for a set of beats over a period"""
        wave = catalogue.create_wave(self.db, read_json(request, WaveInput), self.clock.now())
        return json_response(self._wave_body(wave), status=201)

    @wave_reader("GET", "/waves")
    def list_waves(self, request: Request) -> Response:
        """Waves"""
        page = page_request(request.args)
        waves, total = catalogue.list_waves(self.db, page.offset, page.size)
        return json_response(page_body([self._wave_body(w) for w in waves], total, page))

    @wave_reader("GET", "/waves/<wave_id>", response_schema=WaveOutput)
    def get_wave(self, request: Request, wave_id: str) -> Response:
        """A wave"""
        return json_response(self._wave_body(catalogue.get_wave(self.db, wave_id)))

    @wave_manager("POST", "/waves/<wave_id>/invitations", response_schema=IssuedOutput, status=201)
    def issue_invitations(self, request: Request, wave_id: str) -> Response:
        """Invite every subscriber of the wave's beats (once each)

        Asks notifications for each beat's subscribers, then writes one invitation and one
        `beat.survey.invitation_created` per new recipient; notifications sends them."""
        wave = catalogue.get_wave(self.db, wave_id)
        beats = list(wave.beat_codes)
        self.db.rollback()  # no transaction is held open across the RPC calls
        recipients = {beat: list(self.notifications.beat_subscribers(beat)) for beat in beats}
        now = self.clock.now()
        wave = catalogue.get_wave(self.db, wave_id)
        created = commands.issue_wave_invitations(self.db, self.settings, now, self.outbox.add, wave, recipients)
        by_beat: dict[str, int] = {}
        for invitation in created:
            by_beat[invitation.beat_code or ""] = by_beat.get(invitation.beat_code or "", 0) + 1
        return json_response({"created": len(created), "by_beat": by_beat}, status=201)

    @rpc(read_only=True)
    def invitation_link(self, invitation_id: str) -> dict[str, str] | None:
        """For notifications: `{"url", "expires_at"}`, or None if unknown, used or expired."""
        link = queries.invitation_link(
            self.db, invitation_id, self.settings.token_secret, self.settings.public_url, self.clock.now()
        )
        return None if link is None else {"url": link.url, "expires_at": link.expires_at}


class RespondingEndpoints(_Dependencies):
    """Residents answering, by invitation token or open link."""

    # --- responding ----------------------------------------------------------------

    @responding("POST", "/invitations/survey", request_schema=TokenInput)
    def survey_for_token(self, request: Request) -> Response:
        """The survey an invitation token opens (token in the body, never the URL)"""
        body = read_json(request, TokenInput)
        return json_response(queries.survey_for_token(self.db, body["token"], body["language"], self.clock.now()))

    @responding("POST", "/responses", request_schema=ResponseInput, response_schema=RecordedOutput, status=201)
    def respond(self, request: Request) -> Response:
        """Answer a survey with a one-time token (a second answer gets 409)"""
        body = read_json(request, ResponseInput)
        commands.submit_with_token(self.db, body["token"], body["answers"], body["language"], self.clock.now())
        return json_response({"status": "recorded"}, status=201)

    @responding("GET", "/open/<slug>", query_schema=LanguageQuery)
    def open_survey(self, request: Request, slug: str) -> Response:
        """The survey behind a wave's open link"""
        language = LanguageQuery().load(request.args)["language"]
        return json_response(queries.survey_for_open_link(self.db, slug, language))

    @responding(
        "POST", "/open/<slug>/responses", request_schema=OpenResponseInput, response_schema=RecordedOutput, status=201
    )
    def respond_open(self, request: Request, slug: str) -> Response:
        """Answer through an open link (limited per device per day and per beat)"""
        body = read_json(request, OpenResponseInput)
        fingerprint = f"{request.remote_addr}|{request.headers.get('User-Agent', '')}"
        commands.submit_open(
            self.db,
            slug,
            body["beat_code"],
            body["answers"],
            body["language"],
            fingerprint,
            self.settings.token_secret,
            self.clock.now(),
        )
        return json_response({"status": "recorded"}, status=201)

    @responding("GET", "/respond")
    def respond_page(self, request: Request) -> Response:
        """The resident's survey form (HTML)"""
        return Response(dashboard.respond_page(), mimetype="text/html")


class ResultEndpoints(_Dependencies):
    """Results, CSV, report cards, populations, metrics and the dashboard pages."""

    # --- results and feeds ---------------------------------------------------------

    def _results(self, request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        args = ResultsQuery().load(request.args)
        periods = tuple(args["periods"])
        if args["window_from"] or args["window_to"]:
            periods = periods_in_window(self.db, args["survey"], periods, args["window_from"], args["window_to"])
            if not periods:  # no period overlaps the window: no cell at all (not every period)
                return args, []
        query = ResultQuery(
            survey_code=args["survey"],
            measure=args["measure"],
            by=args["by"],
            periods=periods,
            groups=args["groups"],
            codes=args["codes"],
            channel=args["channel"],
            weighted=args["weighted"],
        )
        return args, compute_results(self.db, query, self.settings.min_cell)

    @public_results("GET", "/results", query_schema=ResultsQuery, response_schema=ResultsPage)
    def results(self, request: Request) -> Response:
        """Results per beat (or category), period and construct (or item), paged

        n, mean (0-100) with a 95% interval, share favourable with a Wilson interval, change from
        the previous period with a significance flag. Suppressed cells carry no figures at all."""
        args, cells = self._results(request)
        page = page_request(request.args, default_size=50, max_size=500)
        body = page_body(cells[page.offset : page.offset + page.size], len(cells), page)
        body["minimum_cell"] = self.settings.min_cell
        # Today's quarter is always selectable, even before its first response arrives.
        body["current_period"] = quarter_of(self.clock.now())
        body["periods"] = sorted({*periods_of(self.db, args["survey"]), body["current_period"]})
        return json_response(body)

    @public_results("GET", "/results.csv", query_schema=ResultsQuery)
    def results_csv(self, request: Request) -> Response:
        """The same results as CSV (suppressed cells have empty figures)"""
        _, cells = self._results(request)
        buffer = io.StringIO()
        csv.writer(buffer).writerows(csv_rows(cells))
        return Response(
            buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="survey-results.csv"'},
        )

    @public_results("GET", "/report-cards/<beat_code>", query_schema=ReportCardQuery, response_schema=ReportCardOutput)
    def beat_report_card(self, request: Request, beat_code: str) -> Response:
        """A beat's safety and trust scores beside the actions taken, for a period"""
        args = ReportCardQuery().load(request.args)
        card = report_card.report_card(self.db, args["survey"], beat_code, args["period"], self.settings.min_cell)
        return json_response(card)

    @public_results("GET", "/report-cards", query_schema=ReportCardsQuery)
    def report_cards(self, request: Request) -> Response:
        """Every beat's report card for a period"""
        args = ReportCardsQuery().load(request.args)
        page = page_request(request.args)
        beats = catalogue.known_beats(self.db)
        cards = [
            report_card.report_card(self.db, args["survey"], beat, args["period"], self.settings.min_cell)
            for beat in beats[page.offset : page.offset + page.size]
        ]
        return json_response(page_body(cards, len(beats), page))

    @results_manager("PUT", "/populations/<beat_code>", request_schema=PopulationInput)
    def set_population(self, request: Request, beat_code: str) -> Response:
        """Set a beat's population (for post-stratification weights)"""
        body = read_json(request, PopulationInput)
        commands.set_population(self.db, beat_code, body["population"])
        return json_response({"beat_code": beat_code, "population": body["population"]})

    @http("GET", "/metrics", auth="none", tags=["platform"])
    def metrics(self, request: Request) -> Response:
        """Prometheus metrics, with survey score gauges per beat and construct (never suppressed cells)."""
        self.platform.refresh_gauges()
        feeds.refresh_score_gauges(self.db, self.settings.min_cell)
        body, content_type = exposition()
        return Response(body, status=200, content_type=content_type)

    @dashboard_page("GET", "/dashboard")
    def dashboard_city(self, request: Request) -> Response:
        """The city dashboard (HTML)"""
        return Response(dashboard.page(beat=None, city=self.settings.city_name), mimetype="text/html")

    @dashboard_page("GET", "/dashboard/beats/<beat_code>")
    def dashboard_beat(self, request: Request, beat_code: str) -> Response:
        """A beat's dashboard (HTML)"""
        return Response(dashboard.page(beat=beat_code, city=self.settings.city_name), mimetype="text/html")

    @dashboard_page("GET", "/dashboard/app.js")
    def dashboard_script(self, request: Request) -> Response:
        """The dashboard's script"""
        return Response(dashboard.script(), mimetype="application/javascript")

    @timer(interval=RESULTS_EVENT_SECONDS)
    def publish_results_updates(self) -> int:
        """Announce `beat.survey.results_updated` once per period whose results changed."""
        return commands.publish_results_updates(self.db, self.clock.now(), self.outbox.add)


class ActivityEndpoints(_Dependencies):
    """The report card's read model, kept from the other services' events."""

    # --- the report card's read model -------------------------------------------------

    @event_handler("concerns", "beat.concern.submitted")
    def on_concern_submitted(self, event: CloudEvent) -> None:
        commands.record_concern_activity(self.db, event.data, submitted_at=parse_iso(event.data["occurred_at"]))

    @event_handler("concerns", "beat.concern.acknowledged")
    def on_concern_acknowledged(self, event: CloudEvent) -> None:
        data = event.data
        commands.record_concern_activity(
            self.db, data, submitted_at=parse_iso(data["submitted_at"]), acknowledged_at=parse_iso(data["occurred_at"])
        )

    @event_handler("concerns", "beat.concern.resolved")
    def on_concern_resolved(self, event: CloudEvent) -> None:
        commands.concern_ended(self.db, self.settings, self.clock.now(), self.outbox.add, event.data, "resolved_at")

    @event_handler("concerns", "beat.concern.closed")
    def on_concern_closed(self, event: CloudEvent) -> None:
        commands.concern_ended(self.db, self.settings, self.clock.now(), self.outbox.add, event.data, "closed_at")

    @event_handler("concerns", "beat.meeting.concluded")
    def on_meeting_concluded(self, event: CloudEvent) -> None:
        commands.record_meeting(self.db, event.data)

    @event_handler("referrals", "beat.referral.sent")
    def on_referral_sent(self, event: CloudEvent) -> None:
        commands.record_referral_sent(self.db, event.data)

    @event_handler("concerns", "beat.problem.opened")
    def on_problem_opened(self, event: CloudEvent) -> None:
        commands.record_problem(self.db, event.data)

    @event_handler("concerns", "beat.problem.stage_changed")
    def on_problem_stage_changed(self, event: CloudEvent) -> None:
        commands.record_problem(self.db, event.data)

    @event_handler("concerns", "beat.problem.assessed")
    def on_problem_assessed(self, event: CloudEvent) -> None:
        commands.record_problem(self.db, event.data, assessed=True)


class SurveysService(
    DefinitionEndpoints,
    WaveEndpoints,
    RespondingEndpoints,
    ResultEndpoints,
    ActivityEndpoints,
    PlatformEndpoints,
):
    """Resident safety and trust surveys and the results dashboards read.

    Results never show a cell with fewer respondents than SURVEYS_MIN_CELL (default 30,
    never below 10): not in the JSON API, the CSV, /metrics or the dashboard page.
    """

    name = "surveys"
    index_pages = (
        Page("City dashboard", "/dashboard"),
        Page("Survey page (opens with a resident's survey link)", "/respond"),
    )
