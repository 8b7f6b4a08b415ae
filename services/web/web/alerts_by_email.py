"""A beat's alerts by e-mail without an account: ask, confirm from the mail (double opt-in), then
manage or stop them from the link in every mail.

An endpoint group of the web service (mixed into `WebService`) over notifications' public
`/subscribers` API. The links in the mails carry a token in their path (`/alerts/confirm/<token>`,
`/alerts/manage/<token>`; both redacted from every log). Opening a confirmation link only shows a
button: a mail scanner that follows links confirms nothing. A manage link's token moves at once into
the session cookie and the browser is sent on to `/alerts/manage`; from then on it travels to
notifications in the `X-Subscriber-Token` header only.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from web import forms
from web.api import ApiClient, ApiError, Call
from web.domain.alerts import read_email_form
from web.domain.language import LANGUAGES
from web.maps import beat_map
from web.page import Page, page, page_http

TOKEN_HEADER = "X-Subscriber-Token"
MANAGING = "subscriber_token"  # the session's key for the manage token


class AlertsByEmail:
    """Pages for following a beat by e-mail alone (needs the service's `apis` and `pages`)."""

    @page_http("POST", "/alerts/email", auth="none", summary="Follow a beat by e-mail: ask", tags=["pages"])
    @page
    def ask_by_email(self, view: Page, api: ApiClient) -> Response:
        form = read_email_form(view.request.form)
        if not form.errors:
            body = {name: form.values[name] for name in ("email", "beat_code", "language")}
            body["watch"] = form.values["watch"] == "yes"
            try:
                api.call(Call("notifications", "POST", "/subscribers", json=body))
            except ApiError as error:
                if error.status != 400:
                    raise
                form.errors = forms.api_errors(error.details) or {"email": "invalid"}
        if form.errors:
            beats = beat_map(api.call(Call("concerns", "GET", "/beats.geojson"))).beats
            return view.render("alerts.html", status=400, form=None, email_form=form, beats=beats, beat_code="")
        return view.redirect("/alerts", flash="alerts_check_mail")

    @page_http("GET", "/alerts/confirm/<token>", auth="none", summary="Confirm alerts: the button", tags=["pages"])
    @page
    def confirm_page(self, view: Page, api: ApiClient, token: str) -> Response:
        return view.render("alerts_confirm.html", token=token)

    @page_http("POST", "/alerts/confirm", auth="none", summary="Confirm alerts (HTML redirect)", tags=["pages"])
    @page
    def confirm(self, view: Page, api: ApiClient) -> Response:
        token = view.request.form.get("token", "")
        try:
            answer = api.call(Call("notifications", "POST", "/subscribers/confirm", json={"token": token}))
        except ApiError as error:
            if error.status != 400:
                raise
            return view.render("alerts_confirm.html", status=400, token="", expired=True)
        view.session.set(MANAGING, answer["manage_token"])
        return view.redirect("/alerts/manage", flash="alerts_confirmed")

    @page_http("GET", "/alerts/manage/<token>", auth="none", summary="A mail's manage link", tags=["pages"])
    @page
    def open_manage_link(self, view: Page, api: ApiClient, token: str) -> Response:
        view.session.set(MANAGING, token)
        return view.redirect("/alerts/manage")  # the token leaves the address bar at once

    @page_http("GET", "/alerts/manage", auth="none", summary="Manage e-mail alerts (HTML)", tags=["pages"])
    @page
    def manage(self, view: Page, api: ApiClient) -> Response:
        token = view.session.get(MANAGING)
        if not token:
            return view.redirect("/alerts")
        found = api.gather_outcomes(
            {
                "subscriber": Call("notifications", "GET", "/subscribers/me", headers={TOKEN_HEADER: token}),
                "beats": Call("concerns", "GET", "/beats.geojson"),
            }
        )
        subscriber = found["subscriber"]
        if isinstance(subscriber, ApiError):
            return _gone(view, subscriber)
        if isinstance(found["beats"], ApiError):
            raise found["beats"]
        names = {beat.code: beat.name for beat in beat_map(found["beats"]).beats}
        followed = [(code, names.get(code, code)) for code in subscriber["beat_codes"]]
        watched = subscriber.get("watch_beat_codes", [])
        return view.render("alerts_manage.html", followed=followed, watched=watched, language=subscriber["language"])

    @page_http("POST", "/alerts/manage/language", auth="none", summary="E-mail alerts' language", tags=["pages"])
    @page
    def manage_language(self, view: Page, api: ApiClient) -> Response:
        language = view.request.form.get("language", "")
        if language not in LANGUAGES:
            return view.render("error.html", status=400, kind="bad_request")
        refused = _send(view, api, "PUT", "/subscribers/me/language", {"language": language})
        return refused or view.redirect("/alerts/manage", flash="alerts_language")

    @page_http("POST", "/alerts/manage/stop/<code>", auth="none", summary="Stop a beat's e-mail alerts", tags=["pages"])
    @page
    def manage_stop(self, view: Page, api: ApiClient, code: str) -> Response:
        refused = _send(view, api, "DELETE", f"/subscribers/me/beats/{code}")
        return refused or view.redirect("/alerts/manage", flash="alerts_off")

    @page_http("POST", "/alerts/manage/forget", auth="none", summary="Stop every e-mail alert", tags=["pages"])
    @page
    def manage_forget(self, view: Page, api: ApiClient) -> Response:
        refused = _send(view, api, "DELETE", "/subscribers/me")
        view.session.pop(MANAGING)
        return refused or view.redirect("/alerts", flash="alerts_forgotten")


def _send(view: Page, api: ApiClient, method: str, path: str, body: dict | None = None) -> Response | None:
    """One change with the session's manage token: None when notifications made it, else the page
    to show instead (a browser without a token goes to /alerts)."""
    token = view.session.get(MANAGING)
    if not token:
        return view.redirect("/alerts")
    try:
        api.call(Call("notifications", method, path, json=body, headers={TOKEN_HEADER: token}))
    except ApiError as error:
        return _gone(view, error)
    return None


def _gone(view: Page, error: ApiError) -> Response:
    """The manage link no longer stands for anything (forgotten, or not a link Beat sent)."""
    if error.status not in (400, 404):
        raise error
    view.session.pop(MANAGING)
    return view.redirect("/alerts", flash="alerts_link_gone")
