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
from web.api import ApiClient, ApiError, Call, Refused
from web.domain.alerts import read_email_form
from web.domain.language import LANGUAGES
from web.maps import beat_map
from web.page import Page, page_group

TOKEN_HEADER = "X-Subscriber-Token"
MANAGING = "subscriber_token"  # the session's key for the manage token

email_alerts_page = page_group("pages")


class AlertsByEmail:
    """Pages for following a beat by e-mail alone (needs the service's `apis` and `pages`)."""

    @email_alerts_page("POST", "/alerts/email")
    def ask_by_email(self, view: Page, api: ApiClient) -> Response:
        """Follow a beat by e-mail: ask"""
        form = read_email_form(view.request.form)
        if not form.errors:
            body = {name: form.values[name] for name in ("email", "beat_code", "language")}
            body["watch"] = form.values["watch"] == "yes"
            api.submit(Call("notifications", "POST", "/subscribers", json=body), form.errors, forms.api_errors, "email")
        if form.errors:
            beats = beat_map(api.call(Call("concerns", "GET", "/beats.geojson"))).beats
            return view.render("alerts.html", status=400, form=None, email_form=form, beats=beats, beat_code="")
        return view.redirect("/alerts", flash="alerts_check_mail")

    @email_alerts_page("GET", "/alerts/confirm/<token>")
    def confirm_page(self, view: Page, api: ApiClient, token: str) -> Response:
        """Confirm alerts: the button"""
        return view.render("alerts_confirm.html", token=token)

    @email_alerts_page("POST", "/alerts/confirm")
    def confirm(self, view: Page, api: ApiClient) -> Response:
        """Confirm alerts (HTML redirect)"""
        token = view.request.form.get("token", "")
        answer = api.submit(Call("notifications", "POST", "/subscribers/confirm", json={"token": token}))
        if isinstance(answer, Refused):
            return view.render("alerts_confirm.html", status=400, token="", expired=True)
        view.session.set(MANAGING, answer["manage_token"])
        return view.redirect("/alerts/manage", flash="alerts_confirmed")

    @email_alerts_page("GET", "/alerts/manage/<token>")
    def open_manage_link(self, view: Page, api: ApiClient, token: str) -> Response:
        """A mail's manage link"""
        view.session.set(MANAGING, token)
        return view.redirect("/alerts/manage")  # the token leaves the address bar at once

    @email_alerts_page("GET", "/alerts/manage")
    def manage(self, view: Page, api: ApiClient) -> Response:
        """Manage e-mail alerts (HTML)"""
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

    @email_alerts_page("POST", "/alerts/manage/language")
    def manage_language(self, view: Page, api: ApiClient) -> Response:
        """E-mail alerts' language"""
        language = view.request.form.get("language", "")
        if language not in LANGUAGES:
            return view.render("error.html", status=400, kind="bad_request")
        refused = _send(view, api, "PUT", "/subscribers/me/language", {"language": language})
        return refused or view.redirect("/alerts/manage", flash="alerts_language")

    @email_alerts_page("POST", "/alerts/manage/stop/<code>")
    def manage_stop(self, view: Page, api: ApiClient, code: str) -> Response:
        """Stop a beat's e-mail alerts"""
        refused = _send(view, api, "DELETE", f"/subscribers/me/beats/{code}")
        return refused or view.redirect("/alerts/manage", flash="alerts_off")

    @email_alerts_page("POST", "/alerts/manage/forget")
    def manage_forget(self, view: Page, api: ApiClient) -> Response:
        """Stop every e-mail alert"""
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
