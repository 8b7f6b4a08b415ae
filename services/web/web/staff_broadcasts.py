"""Broadcasting an alert to a beat's subscribers from the officer's console: write it, see what it
will say in English and Spanish and how many people it will reach, then send it once.

An endpoint group of the web service (mixed into `WebService`). notifications decides who may
broadcast to a beat (its officers, supervisors) and answers the preview; the form page itself is
offered only to staff who work the beat (concerns `GET /me/beats`). A random key made with each
preview is sent as the broadcast's `Idempotency-Key`: a double click, or a retry after a lost
answer, alerts the beat once. The alert goes to everyone following the beat (kind `alert`) or to its
neighbourhood watch only (kind `watch`: notifications then reaches and counts the watch's members).
"""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.wrappers import Response

from web.api import ApiClient, Call, Refused
from web.page import Page
from web.staff import staff_page

TITLE_MAX, BODY_MAX = 200, 2000  # notifications' limits, also set on the fields
KINDS = ("alert", "watch")  # everyone following the beat, or its neighbourhood watch only


def _alert(form: Any) -> dict[str, Any]:
    return {
        "kind": form.get("kind") or "alert",
        "title": (form.get("title") or "").strip(),
        "body": (form.get("body") or "").strip(),
        "urgent": form.get("urgent") == "yes",
    }


class BroadcastConsole:
    """Officers' broadcast pages (needs the service's `apis` and `pages` dependencies)."""

    @staff_page("GET", "/staff/beats/<code>/broadcast")
    def broadcast_form(self, view: Page, api: ApiClient, code: str) -> Response:
        """Write an alert to the beat's subscribers (HTML)"""
        return self._form(view, api, code, {"kind": "alert", "title": "", "body": "", "urgent": False})

    @staff_page("POST", "/staff/beats/<code>/broadcast/preview")
    def broadcast_preview(self, view: Page, api: ApiClient, code: str) -> Response:
        """Preview an alert: what it says in each language, how many it reaches (HTML)"""
        alert = _alert(view.request.form)
        if alert["kind"] not in KINDS:
            return view.render("error.html", status=400, kind="bad_request")
        if not alert["title"]:
            return self._form(view, api, code, alert, errors={"title": "required"}, status=400)
        preview = api.submit(Call("notifications", "POST", f"/broadcasts/{code}/preview", json=alert))
        if isinstance(preview, Refused):
            return self._form(view, api, code, alert, errors=_field_errors(preview.details), status=400)
        return view.render(
            "staff/broadcast.html",
            beat_code=code,
            alert=alert,
            preview=preview,
            key=secrets.token_urlsafe(18),
            errors={},
            title_max=TITLE_MAX,
            body_max=BODY_MAX,
        )

    @staff_page("POST", "/staff/beats/<code>/broadcast")
    def send_broadcast(self, view: Page, api: ApiClient, code: str) -> Response:
        """Send an alert to the beat's subscribers (HTML redirect)"""
        alert = _alert(view.request.form)
        key = view.request.form.get("key") or ""
        if alert["kind"] not in KINDS or not alert["title"] or not 8 <= len(key) <= 255:
            return view.render("error.html", status=400, kind="bad_request")
        headers = {"Idempotency-Key": key}
        api.call(Call("notifications", "POST", f"/broadcasts/{code}", json=alert, headers=headers))
        return view.redirect(f"/staff/beats/{code}/broadcast", flash="broadcast_sent")

    def _form(
        self,
        view: Page,
        api: ApiClient,
        code: str,
        alert: dict[str, Any],
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        mine = api.call(Call("concerns", "GET", "/me/beats"))["beats"]
        if code not in {beat["code"] for beat in mine}:
            return view.render("error.html", status=403, kind="forbidden")
        return view.render(
            "staff/broadcast.html",
            status=status,
            beat_code=code,
            alert=alert,
            preview=None,
            errors=errors or {},
            title_max=TITLE_MAX,
            body_max=BODY_MAX,
        )


def _field_errors(details: Any) -> dict[str, str]:
    if not isinstance(details, dict):
        return {"title": "invalid"}
    return {name: "invalid" for name in details if name in ("title", "body")} or {"title": "invalid"}
