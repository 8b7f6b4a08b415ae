"""A beat's alerts and meeting announcements: subscribe, choose e-mail or SMS, language and quiet
hours, stop following a beat. (Without an account, by e-mail alone: `alerts_by_email.py`.)

An endpoint group of the web service (mixed into `WebService`). Subscriptions belong to a person in
notifications' directory (`/me/...`), so these pages need a signed-in person; every call carries
their own token and notifications decides what is valid (a 400 is shown beside the fields).
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from web import forms
from web.api import ApiClient, ApiError, Call
from web.domain import alerts
from web.maps import beat_map
from web.page import Page, page_group

alerts_page = page_group("pages")


class BeatAlerts:
    """Alerts pages (needs the service's `apis` and `pages` dependencies)."""

    @alerts_page("GET", "/alerts")
    def alerts(self, view: Page, api: ApiClient) -> Response:
        """My beats' alerts: subscribe and manage (HTML)"""
        beat_code = view.request.args.get("beat", "")
        if view.person is None:  # by e-mail alone (alerts_by_email.py), or sign in
            beats = beat_map(api.call(Call("concerns", "GET", "/beats.geojson"))).beats
            email_form = alerts.blank_email_form(beat_code, view.language)
            managing = bool(view.session.get("subscriber_token"))  # alerts_by_email.MANAGING
            return view.render(
                "alerts.html", form=None, email_form=email_form, beats=beats, beat_code=beat_code, managing=managing
            )
        return self._alerts_page(view, api, form=None, beat_code=beat_code)

    @alerts_page("POST", "/alerts")
    def subscribe(self, view: Page, api: ApiClient) -> Response:
        """Follow a beat's alerts (HTML redirect)"""
        if view.person is None:
            return view.render("alerts.html", status=403, form=None, beat_code="")
        form = alerts.read_form(view.request.form)
        if form.errors:
            return self._alerts_page(view, api, form=form, status=400)
        try:
            # The contact first: it makes the person's directory entry the other calls then share.
            api.call(Call("notifications", "PUT", "/me/contact", json=alerts.contact_body(form)))
            calls = {
                f"preference-{index}": Call("notifications", "PUT", "/me/preferences", json=body)
                for index, body in enumerate(alerts.preference_bodies(form.values["channel"]))
            }
            body = {"beat_code": form.values["beat_code"], "watch": form.values["watch"] == "yes"}
            calls["subscription"] = Call("notifications", "POST", "/me/subscriptions", json=body)
            api.gather(calls)
        except ApiError as error:
            if error.status != 400:
                raise
            form.errors = forms.api_errors(error.details) or {"beat_code": "invalid"}
            return self._alerts_page(view, api, form=form, status=400)
        return view.redirect("/alerts", flash="alerts_on")

    @alerts_page("POST", "/alerts/<beat_code>/stop")
    def stop_alerts(self, view: Page, api: ApiClient, beat_code: str) -> Response:
        """Stop a beat's alerts (HTML redirect)"""
        if view.person is None:
            return view.render("alerts.html", status=403, form=None, beat_code="")
        api.call(Call("notifications", "DELETE", f"/me/subscriptions/{beat_code}"))
        return view.redirect("/alerts", flash="alerts_off")

    def _alerts_page(
        self, view: Page, api: ApiClient, form: alerts.AlertsForm | None, beat_code: str = "", status: int = 200
    ) -> Response:
        """The person's beats and settings, and the form (blank, or as typed with its errors)."""
        found = api.gather(
            {
                "contact": Call("notifications", "GET", "/me/contact"),
                "preferences": Call("notifications", "GET", "/me/preferences"),
                "subscriptions": Call("notifications", "GET", "/me/subscriptions"),
                "beats": Call("concerns", "GET", "/beats.geojson"),
            }
        )
        if form is None:
            form = alerts.blank_form(found["contact"], found["preferences"], beat_code, view.language)
        beats = beat_map(found["beats"]).beats
        names = {beat.code: beat.name for beat in beats}
        return view.render(
            "alerts.html",
            status=status,
            form=form,
            beats=beats,
            followed=[(code, names.get(code, code)) for code in found["subscriptions"]["beat_codes"]],
            watched=found["subscriptions"].get("watch_beat_codes", []),
            opted_out=found["contact"].get("opted_out", False),
        )
