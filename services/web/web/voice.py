"""Voicing a concern: choose its category, then one form (the category's own questions, a map to
click or an address, contact details, the emergency notice); likely duplicates nearby offered first
as "me too"; the receipt link shown once.

An endpoint group of the web service (mixed into `WebService`). The form works without scripts: the
map is an `<input type="image">` whose click posts a pixel, turned back into lon/lat here.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from beat_shared.http import http
from web import categories, forms
from web.api import RECEIPT_HEADER, ApiClient, ApiError, Call, Refused
from web.domain.receipts import Receipt
from web.follow import KEPT_TOKENS, receipt_token, remember
from web.home import static_headers
from web.maps import PICKER_WIDTH, beat_map, picker_svg
from web.page import Page, page_group

voice_page = page_group("pages")


class VoicePages:
    """The voice form and its receipt (needs the service's `apis` and `pages` dependencies)."""

    @voice_page("GET", "/voice")
    def choose_category(self, view: Page, api: ApiClient) -> Response:
        """Voice a concern: choose its category (HTML)"""
        categories = api.call(Call("concerns", "GET", "/categories", params={"lang": view.language}))["categories"]
        return view.render("voice_category.html", categories=categories)

    @voice_page("GET", "/voice/<category>")
    def voice_form(self, view: Page, api: ApiClient, category: str) -> Response:
        """Voice a concern: the form (HTML)"""
        found = api.call(Call("concerns", "GET", f"/categories/{category}", params={"lang": view.language}))
        voice = forms.read_voice_form(found, MultiDict({"language": view.language}))
        return _voice_page(view, found, voice)

    @voice_page("POST", "/voice/<category>")
    def voice_submit(self, view: Page, api: ApiClient, category: str) -> Response:
        # The category's words in the page's language (a city's translations; English where it has none).
        """Voice a concern: send it (HTML)"""
        found = api.call(Call("concerns", "GET", f"/categories/{category}", params={"lang": view.language}))
        voice = forms.read_voice_form(found, view.request.form)
        if "map.x" in view.request.form:  # a click on the no-script map: place the pin, show the form again
            if _keyboard_on_map(view.request.form):
                return _voice_page(view, found, voice, map_without_point=True)
            return _voice_page(view, found, _placed(api, voice, view.request.form))
        body = forms.api_body(found, voice)
        if body is None:
            return _voice_page(view, found, voice, status=400)
        retry = voice.values.get(forms.SUBMISSION_KEY) in (view.session.get("sent_keys") or [])
        if view.request.form.get("confirmed") != "yes" and not retry:
            nearby = _similar(api, body)
            if nearby:
                # The nearby concerns are of the category being voiced, already named in the page's language.
                categories.in_language((item["concern"] for item in nearby), {found["code"]: found["name"]})
                return view.render("voice_similar.html", category=found, voice=voice, similar=nearby)
        key = forms.ensure_submission_key(voice)
        call = Call("concerns", "POST", "/concerns", json=body, headers={"Idempotency-Key": key})
        answer = api.submit(call, voice.errors, forms.api_errors, otherwise="description")
        if isinstance(answer, Refused):
            return _voice_page(view, found, voice, status=400)
        view.session.set("sent_keys", [*(view.session.get("sent_keys") or []), key][-KEPT_TOKENS:])
        receipt = Receipt(answer["concern"]["id"], answer["receipt_token"])
        remember(view, "receipts", receipt.concern_id, receipt.token)
        view.session.set("just_submitted", {"id": receipt.concern_id, "notice": answer["service_notice"]})
        return view.redirect("/voice/sent")

    @voice_page("GET", "/voice/sent")
    def voice_sent(self, view: Page, api: ApiClient) -> Response:
        """Voice a concern: the receipt, shown once (HTML)"""
        sent = view.session.pop("just_submitted")
        token = receipt_token(view, sent["id"]) if isinstance(sent, dict) else None
        if token is None:
            return view.redirect("/follow")  # shown once: a reload goes to the follow page
        request = Call("concerns", "GET", f"/concerns/{sent['id']}", headers={RECEIPT_HEADER: token})
        concern = categories.concern(api, view.language, request)
        receipt = Receipt(sent["id"], token)
        link = f"{view.request.host_url}follow#{receipt.fragment}"
        return view.render("voice_sent.html", concern=concern, receipt_link=link, notice=sent["notice"])

    @http(
        "GET", "/map/picker.svg", auth="none", summary="The beats as an image for the location picker", tags=["pages"]
    )
    def picker(self, request: Request) -> Response:
        try:
            collection = self.apis.client().call(Call("concerns", "GET", "/beats.geojson"))
        except ApiError as error:  # an image cannot be an error page; the form around it still works
            return Response("", status=503 if error.status >= 500 else 502, headers=static_headers())
        return Response(picker_svg(collection, _marker(request)), mimetype="image/svg+xml", headers=static_headers())


def _voice_page(
    view: Page, category: dict[str, Any], voice: forms.VoiceForm, status: int = 200, map_without_point: bool = False
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


def _placed(api: ApiClient, voice: forms.VoiceForm, form: Any) -> forms.VoiceForm:
    try:
        x, y = float(form["map.x"]), float(form["map.y"])
    except (KeyError, ValueError):
        return voice
    drawn = beat_map(api.call(Call("concerns", "GET", "/beats.geojson")), PICKER_WIDTH)
    long, lat = drawn.projection.position(x, y)
    voice.values.update(lat=f"{lat:.6f}", long=f"{long:.6f}")
    return voice


def _similar(api: ApiClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    location = body["location"]
    if location["lat"] is None:
        return []
    params = {"category": body["category"], "lat": location["lat"], "long": location["long"]}
    return api.call(Call("concerns", "GET", "/concerns/similar", params=params))["possible_duplicates"]


def _marker(request: Request) -> tuple[float, float] | None:
    """The pin of the picker image (the place already chosen), if its query names one."""
    try:
        return float(request.args["long"]), float(request.args["lat"])
    except (KeyError, ValueError):
        return None


def _keyboard_on_map(form: Any) -> bool:
    """Enter or Space on the focused map picker posts the point (0, 0): no place was pointed at, and the
    map's corner is not a place in the city."""
    return form.get("map.x") == "0" and form.get("map.y") == "0"
