"""The web service's entrypoints: Beat's pages (HTML) over the four services' public APIs."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from beat_shared.http import http
from beat_shared.platform import PlatformEndpoints
from web import categories, forms
from web.agency import AgencyInbox
from web.alerts import BeatAlerts
from web.alerts_by_email import AlertsByEmail
from web.api import RECEIPT_HEADER, ApiClient, ApiError, Apis, Call
from web.domain.language import LANGUAGES
from web.domain.people import HOME_OF_ROLE
from web.domain.receipts import Receipt, parse_receipt
from web.inbox import PersonalInbox
from web.maps import PICKER_WIDTH, beat_at, beat_map, picker_svg
from web.page import Page, Pages, local_path, page, page_http
from web.problems_public import ResidentProblems
from web.sign_in import SignIn
from web.staff import OfficerConsole
from web.staff_broadcasts import BroadcastConsole
from web.staff_meetings import MeetingConsole
from web.staff_problems import ProblemConsole
from web.staff_referrals import ReferralConsole
from web.supervisor import SupervisorConsole

STATIC = Path(__file__).parent / "static"
RECENT_CONCERNS = 8
KEPT_TOKENS = 20  # receipts and supporter tokens a session remembers (the cookie stays small)


class WebService(
    SignIn,
    BeatAlerts,
    AlertsByEmail,
    OfficerConsole,
    ReferralConsole,
    MeetingConsole,
    ProblemConsole,
    ResidentProblems,
    BroadcastConsole,
    PersonalInbox,
    SupervisorConsole,
    AgencyInbox,
    PlatformEndpoints,
):
    """Server-rendered pages for residents; every authorization decision stays with the
    service that owns the data (the pages carry the person's own credentials to it)."""

    name = "web"

    apis = Apis()
    pages = Pages()

    # --- home and beats ----------------------------------------------------------------------

    @page_http("GET", "/", auth="none", summary="Home: the beats map and recent concerns (HTML)", tags=["pages"])
    @page
    def index(self, view: Page, api: ApiClient) -> Response:
        """The home page; it replaces the platform's service index (same name), as the front door."""
        found, names = categories.gather(
            api,
            view.language,
            {
                "beats": Call("concerns", "GET", "/beats.geojson"),
                "recent": Call("concerns", "GET", "/public/concerns", params={"per_page": RECENT_CONCERNS}),
            },
        )
        recent = categories.in_language(found["recent"]["contents"], names)
        return view.render("home.html", map=beat_map(found["beats"]), recent=recent)

    @page_http("POST", "/beats/find", auth="none", summary="The beat at a location (HTML redirect)", tags=["pages"])
    @page
    def find_beat(self, view: Page, api: ApiClient) -> Response:
        """The browser's location arrives in a POST body, never in a URL."""
        try:
            lat, long = float(view.request.form["lat"]), float(view.request.form["long"])
        except (KeyError, ValueError):
            return view.redirect("/", flash="location_unreadable")
        code = beat_at(api.call(Call("concerns", "GET", "/beats.geojson")), long, lat)
        if code is None:
            return view.redirect("/", flash="outside_beats")
        return view.redirect(f"/beats/{code}")

    @page_http("GET", "/beats/<code>", auth="none", summary="A beat's page (HTML)", tags=["pages"])
    @page
    def beat(self, view: Page, api: ApiClient, code: str) -> Response:
        found = api.gather_outcomes(
            {
                "beat": Call("concerns", "GET", f"/beats/{code}"),
                "report_card": Call("surveys", "GET", f"/report-cards/{code}"),
                categories.NAMES: categories.names_call(view.language),
            }
        )
        if isinstance(found["beat"], ApiError):
            raise found["beat"]
        beat, card = found["beat"], found["report_card"]
        names = categories.names_from(found[categories.NAMES])
        categories.in_language([*beat["top_open_concerns"], *beat["recently_resolved"]], names)
        return view.render("beat.html", page=beat, report_card=None if isinstance(card, ApiError) else card)

    @page_http("GET", "/meetings/<meeting_id>", auth="none", summary="A meeting or activity (HTML)", tags=["pages"])
    @page
    def meeting(self, view: Page, api: ApiClient, meeting_id: str) -> Response:
        return view.render("meeting.html", meeting=api.call(Call("concerns", "GET", f"/meetings/{meeting_id}")))

    # --- voicing a concern ------------------------------------------------------------------

    @page_http("GET", "/voice", auth="none", summary="Voice a concern: choose its category (HTML)", tags=["pages"])
    @page
    def choose_category(self, view: Page, api: ApiClient) -> Response:
        categories = api.call(Call("concerns", "GET", "/categories", params={"lang": view.language}))["categories"]
        return view.render("voice_category.html", categories=categories)

    @page_http("GET", "/voice/<category>", auth="none", summary="Voice a concern: the form (HTML)", tags=["pages"])
    @page
    def voice_form(self, view: Page, api: ApiClient, category: str) -> Response:
        found = api.call(Call("concerns", "GET", f"/categories/{category}", params={"lang": view.language}))
        voice = forms.read_voice_form(found, MultiDict({"language": view.language}))
        return self._voice_page(view, api, found, voice)

    @page_http("POST", "/voice/<category>", auth="none", summary="Voice a concern: send it (HTML)", tags=["pages"])
    @page
    def voice_submit(self, view: Page, api: ApiClient, category: str) -> Response:
        # The category's words in the page's language (a city's translations; English where it has none).
        found = api.call(Call("concerns", "GET", f"/categories/{category}", params={"lang": view.language}))
        voice = forms.read_voice_form(found, view.request.form)
        if "map.x" in view.request.form:  # a click on the no-script map: place the pin, show the form again
            if _keyboard_on_map(view.request.form):
                return self._voice_page(view, api, found, voice, map_without_point=True)
            return self._voice_page(view, api, found, self._placed(api, voice, view.request.form))
        body = forms.api_body(found, voice)
        if body is None:
            return self._voice_page(view, api, found, voice, status=400)
        retry = voice.values.get(forms.SUBMISSION_KEY) in (view.session.get("sent_keys") or [])
        if view.request.form.get("confirmed") != "yes" and not retry:
            nearby = self._similar(api, body)
            if nearby:
                # The nearby concerns are of the category being voiced, already named in the page's language.
                categories.in_language((item["concern"] for item in nearby), {found["code"]: found["name"]})
                return view.render("voice_similar.html", category=found, voice=voice, similar=nearby)
        try:
            key = forms.ensure_submission_key(voice)
            answer = api.call(Call("concerns", "POST", "/concerns", json=body, headers={"Idempotency-Key": key}))
        except ApiError as error:
            if error.status != 400:
                raise
            voice.errors.update(forms.api_errors(error.details) or {"description": "invalid"})
            return self._voice_page(view, api, found, voice, status=400)
        view.session.set("sent_keys", [*(view.session.get("sent_keys") or []), key][-KEPT_TOKENS:])
        receipt = Receipt(answer["concern"]["id"], answer["receipt_token"])
        _remember(view, "receipts", receipt.concern_id, receipt.token)
        view.session.set("just_submitted", {"id": receipt.concern_id, "notice": answer["service_notice"]})
        return view.redirect("/voice/sent")

    @page_http(
        "GET", "/voice/sent", auth="none", summary="Voice a concern: the receipt, shown once (HTML)", tags=["pages"]
    )
    @page
    def voice_sent(self, view: Page, api: ApiClient) -> Response:
        sent = view.session.pop("just_submitted")
        token = _receipt_token(view, sent["id"]) if isinstance(sent, dict) else None
        if token is None:
            return view.redirect("/follow")  # shown once: a reload goes to the follow page
        request = Call("concerns", "GET", f"/concerns/{sent['id']}", headers={RECEIPT_HEADER: token})
        concern = categories.concern(api, view.language, request)
        receipt = Receipt(sent["id"], token)
        link = f"{view.request.host_url}follow#{receipt.fragment}"
        return view.render("voice_sent.html", concern=concern, receipt_link=link, notice=sent["notice"])

    def _voice_page(
        self,
        view: Page,
        api: ApiClient,
        category: dict[str, Any],
        voice: forms.VoiceForm,
        status: int = 200,
        map_without_point: bool = False,
    ) -> Response:
        forms.ensure_submission_key(voice)
        return view.render(
            "voice_form.html",
            status=status,
            category=category,
            voice=voice,
            picker_width=PICKER_WIDTH,
            map_without_point=map_without_point,
        )

    def _placed(self, api: ApiClient, voice: forms.VoiceForm, form: Any) -> forms.VoiceForm:
        try:
            x, y = float(form["map.x"]), float(form["map.y"])
        except (KeyError, ValueError):
            return voice
        drawn = beat_map(api.call(Call("concerns", "GET", "/beats.geojson")), PICKER_WIDTH)
        long, lat = drawn.projection.position(x, y)
        voice.values.update(lat=f"{lat:.6f}", long=f"{long:.6f}")
        return voice

    def _similar(self, api: ApiClient, body: dict[str, Any]) -> list[dict[str, Any]]:
        location = body["location"]
        if location["lat"] is None:
            return []
        params = {"category": body["category"], "lat": location["lat"], "long": location["long"]}
        return api.call(Call("concerns", "GET", "/concerns/similar", params=params))["possible_duplicates"]

    @http(
        "GET", "/map/picker.svg", auth="none", summary="The beats as an image for the location picker", tags=["pages"]
    )
    def picker(self, request: Request) -> Response:
        try:
            collection = self.apis.client().call(Call("concerns", "GET", "/beats.geojson"))
        except ApiError as error:  # an image cannot be an error page; the form around it still works
            return Response("", status=503 if error.status >= 500 else 502, headers=_static_headers())
        return Response(picker_svg(collection, _marker(request)), mimetype="image/svg+xml", headers=_static_headers())

    # --- following a concern ---------------------------------------------------------------

    @page_http("GET", "/follow", auth="none", summary="Follow a concern: paste the receipt link (HTML)", tags=["pages"])
    @page
    def follow_start(self, view: Page, api: ApiClient) -> Response:
        return view.render("follow_start.html")

    @page_http(
        "POST", "/follow", auth="none", summary="Follow a concern: open the receipt (HTML redirect)", tags=["pages"]
    )
    @page
    def follow_open(self, view: Page, api: ApiClient) -> Response:
        receipt = parse_receipt(view.request.form.get("receipt", ""))
        if receipt is None:
            return view.render("follow_start.html", status=400, error="receipt_unreadable")
        _remember(view, "receipts", receipt.concern_id, receipt.token)
        return view.redirect(f"/follow/{receipt.concern_id}")

    @page_http("GET", "/follow/<concern_id>", auth="none", summary="Follow a concern (HTML)", tags=["pages"])
    @page
    def follow(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        token = _receipt_token(view, concern_id)
        if token is None:
            return view.redirect("/follow")
        request = Call("concerns", "GET", f"/concerns/{concern_id}", headers={RECEIPT_HEADER: token})
        return view.render("follow.html", concern=categories.concern(api, view.language, request))

    @page_http("POST", "/follow/<concern_id>/withdraw", auth="none", summary="Withdraw my concern", tags=["pages"])
    @page
    def withdraw(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        token = _receipt_token(view, concern_id)
        if token is None:
            return view.redirect("/follow")
        api.call(Call("concerns", "POST", f"/concerns/{concern_id}/withdraw", json={}, headers={RECEIPT_HEADER: token}))
        return view.redirect(f"/follow/{concern_id}", flash="withdrawn")

    # --- public concerns and "me too" -------------------------------------------------------

    @page_http(
        "GET", "/concerns/<concern_id>", auth="none", summary="A concern as the public sees it (HTML)", tags=["pages"]
    )
    @page
    def public_concern(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        concern = categories.concern(api, view.language, Call("concerns", "GET", f"/public/concerns/{concern_id}"))
        return view.render("concern.html", concern=concern)

    @page_http(
        "POST", "/concerns/<concern_id>/support", auth="none", summary='"Me too" (HTML redirect)', tags=["pages"]
    )
    @page
    def support(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """Counted once per person: the supporter token concerns gave this browser the first time
        (or, on one's own concern, its receipt) goes with every later "me too"."""
        token = (view.session.get("supporter_tokens") or {}).get("any") or next(
            iter((view.session.get("receipts") or {}).values()), None
        )
        headers = {RECEIPT_HEADER: token} if token else {}
        answer = api.call(Call("concerns", "POST", f"/concerns/{concern_id}/support", headers=headers))
        if answer.get("supporter_token"):
            _remember(view, "supporter_tokens", "any", answer["supporter_token"])
        return view.redirect(f"/concerns/{concern_id}", flash="supported" if answer["counted"] else "already_supported")

    @page_http("GET", "/me", auth="none", summary="My concerns, or my beats' concerns (HTML)", tags=["pages"])
    @page
    def me(self, view: Page, api: ApiClient) -> Response:
        person = view.person
        if person is None:
            return view.redirect("/sign-in" if view.settings.sign_in_offered else "/follow")
        if person["role"] in HOME_OF_ROLE:  # agencies and analysts have no concerns of their own
            return view.redirect(HOME_OF_ROLE[person["role"]])
        path = "/me/concerns" if person["role"] == "resident" else "/concerns"
        found, names = categories.gather(
            api, view.language, {"mine": Call("concerns", "GET", path, params={"per_page": 50})}
        )
        shown = categories.in_language(found["mine"]["contents"], names)
        return view.render("me.html", concerns=shown, total=found["mine"]["total_items"])

    # --- language and files ------------------------------------------------------------------

    @page_http("GET", "/language/<code>", auth="none", summary="Choose the pages' language", tags=["pages"])
    @page
    def choose_language(self, view: Page, api: ApiClient, code: str) -> Response:
        if code in LANGUAGES:
            view.session.set("language", code)
        return view.redirect(local_path(view.request.args.get("next")))

    @http("GET", "/static/<name>", auth="none", summary="The pages' styles and scripts", tags=["pages"])
    def static(self, request: Request, name: str) -> Response:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return Response("not found", status=404, mimetype="text/plain")
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(path.read_bytes(), mimetype=mimetype, headers=_static_headers())

    @page_http("GET", "/<path:unknown>", auth="none", summary="Any other address: a page saying so", tags=["pages"])
    @page
    def not_found(self, view: Page, api: ApiClient, unknown: str) -> Response:
        return view.render("error.html", status=404, kind="not_found")


def _marker(request: Request) -> tuple[float, float] | None:
    """The pin of the picker image (the place already chosen), if its query names one."""
    try:
        return float(request.args["long"]), float(request.args["lat"])
    except (KeyError, ValueError):
        return None


def _receipt_token(view: Page, concern_id: str) -> str | None:
    """The receipt token this browser holds for the concern (kept when it posted the receipt link)."""
    return (view.session.get("receipts") or {}).get(concern_id)


def _keyboard_on_map(form: Any) -> bool:
    """Enter or Space on the focused map picker posts the point (0, 0): no place was pointed at, and the
    map's corner is not a place in the city."""
    return form.get("map.x") == "0" and form.get("map.y") == "0"


def _remember(view: Page, bucket: str, key: str, token: str) -> None:
    """Keep a token in the session under `bucket`, newest last, at most KEPT_TOKENS of them."""
    kept = dict(view.session.get(bucket) or {})
    kept.pop(key, None)
    kept[key] = token
    view.session.set(bucket, dict(list(kept.items())[-KEPT_TOKENS:]))


def _static_headers() -> dict[str, str]:
    return {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
