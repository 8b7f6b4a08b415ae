"""The front door and what anyone may read: the home page (the beats' map, recent concerns), finding
one's beat, a beat's page, a meeting's page, my concerns (`/me`), the language switch, the pages'
files and the page for any other address.

An endpoint group of the web service (mixed into `WebService`). Its `index` replaces the platform's
service index (same name) as the front door.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from werkzeug.wrappers import Request, Response

from beat_shared.http import http
from web import categories
from web.api import ApiClient, ApiError, Call
from web.domain.language import LANGUAGES
from web.domain.people import HOME_OF_ROLE
from web.maps import beat_at, beat_map
from web.page import Page, local_path, page_group

STATIC = Path(__file__).parent / "static"
RECENT_CONCERNS = 8
MY_CONCERNS_SHOWN = 50

home_page = page_group("pages")


class HomePages:
    """The public pages (needs the service's `apis` and `pages` dependencies)."""

    @home_page("GET", "/")
    def index(self, view: Page, api: ApiClient) -> Response:
        """Home: the beats map and recent concerns (HTML)

        The home page; it replaces the platform's service index (same name), as the front door."""
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

    @home_page("POST", "/beats/find")
    def find_beat(self, view: Page, api: ApiClient) -> Response:
        """The beat at a location (HTML redirect)

        The browser's location arrives in a POST body, never in a URL."""
        try:
            lat, long = float(view.request.form["lat"]), float(view.request.form["long"])
        except (KeyError, ValueError):
            return view.redirect("/", flash="location_unreadable")
        code = beat_at(api.call(Call("concerns", "GET", "/beats.geojson")), long, lat)
        if code is None:
            return view.redirect("/", flash="outside_beats")
        return view.redirect(f"/beats/{code}")

    @home_page("GET", "/beats/<code>")
    def beat(self, view: Page, api: ApiClient, code: str) -> Response:
        """A beat's page (HTML)"""
        found, names = categories.gather(
            api,
            view.language,
            {
                "beat": Call("concerns", "GET", f"/beats/{code}"),
                "report_card": Call("surveys", "GET", f"/report-cards/{code}"),
            },
            optional=("report_card",),  # the page says the report card cannot be shown just now
        )
        beat, card = found["beat"], found["report_card"]
        categories.in_language([*beat["top_open_concerns"], *beat["recently_resolved"]], names)
        return view.render("beat.html", page=beat, report_card=None if isinstance(card, ApiError) else card)

    @home_page("GET", "/meetings/<meeting_id>")
    def meeting(self, view: Page, api: ApiClient, meeting_id: str) -> Response:
        """A meeting or activity (HTML)"""
        return view.render("meeting.html", meeting=api.call(Call("concerns", "GET", f"/meetings/{meeting_id}")))

    @home_page("GET", "/me")
    def me(self, view: Page, api: ApiClient) -> Response:
        """My concerns, or my beats' concerns (HTML)"""
        person = view.person
        if person is None:
            return view.redirect("/sign-in" if view.settings.sign_in_offered else "/follow")
        if person["role"] in HOME_OF_ROLE:  # agencies and analysts have no concerns of their own
            return view.redirect(HOME_OF_ROLE[person["role"]])
        path = "/me/concerns" if person["role"] == "resident" else "/concerns"
        found, names = categories.gather(
            api, view.language, {"mine": Call("concerns", "GET", path, params={"per_page": MY_CONCERNS_SHOWN})}
        )
        shown = categories.in_language(found["mine"]["contents"], names)
        return view.render("me.html", concerns=shown, total=found["mine"]["total_items"])

    @home_page("GET", "/language/<code>")
    def choose_language(self, view: Page, api: ApiClient, code: str) -> Response:
        """Choose the pages' language"""
        if code in LANGUAGES:
            view.session.set("language", code)
        return view.redirect(local_path(view.request.args.get("next")))

    @http("GET", "/static/<name>", auth="none", summary="The pages' styles and scripts", tags=["pages"])
    def static(self, request: Request, name: str) -> Response:
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return Response("not found", status=404, mimetype="text/plain")
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(path.read_bytes(), mimetype=mimetype, headers=static_headers())

    @home_page("GET", "/<path:unknown>")
    def not_found(self, view: Page, api: ApiClient, unknown: str) -> Response:
        """Any other address: a page saying so"""
        return view.render("error.html", status=404, kind="not_found")


def static_headers() -> dict[str, str]:
    """Files the pages load (styles, scripts, the picker's image) may be cached briefly."""
    return {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
