"""My inbox (in-app messages) and my notification preferences, for the people notifications keeps
an inbox for: residents, officers and supervisors.

An endpoint group of the web service (mixed into `WebService`). Every call carries the person's own
token; notifications answers only with their own messages and settings (agencies and analysts have
no inbox there: its 403 is the page). Only an anonymous visitor is turned away here.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from web.api import ApiClient, Call, Refused
from web.page import Page, anyone_signed_in, page_group

INBOX_PAGE_SIZE = 50
CHANNELS = ("email", "sms", "inbox")
EVERY_TOPIC = "*"

inbox_page = page_group("pages", anyone_signed_in)


class PersonalInbox:
    """Inbox and preference pages (needs the service's `apis` and `pages` dependencies)."""

    @inbox_page("GET", "/me/inbox")
    def my_inbox(self, view: Page, api: ApiClient) -> Response:
        """My in-app messages (HTML)"""
        found = api.gather(
            {
                "items": Call("notifications", "GET", "/inbox", params={"per_page": INBOX_PAGE_SIZE}),
                "unread": Call("notifications", "GET", "/inbox/unread-count"),
            }
        )
        return view.render(
            "inbox.html", items=found["items"]["contents"], total=found["items"]["total_items"], unread=found["unread"]
        )

    @inbox_page("POST", "/me/inbox/read")
    def mark_read(self, view: Page, api: ApiClient) -> Response:
        """Mark my messages read (HTML redirect)

        One message (`item`), or all of them (no `item`)."""
        item = view.request.form.get("item")
        path = f"/inbox/{item}/read" if item else "/inbox/read-all"
        api.call(Call("notifications", "POST", path))
        return view.redirect("/me/inbox", flash="inbox_read")

    @inbox_page("GET", "/me/notifications")
    def my_preferences(self, view: Page, api: ApiClient) -> Response:
        """My notification preferences (HTML)"""
        return self._preferences(view, api)

    @inbox_page("POST", "/me/notifications")
    def set_preference(self, view: Page, api: ApiClient) -> Response:
        """Switch a topic on or off on a channel (HTML redirect)"""
        body = _preference(view.request.form)
        if body is None or isinstance(api.submit(Call("notifications", "PUT", "/me/preferences", json=body)), Refused):
            return self._preferences(view, api, errors={"topic": "invalid"}, status=400)
        return view.redirect("/me/notifications", flash="preference_saved")

    def _preferences(
        self, view: Page, api: ApiClient, errors: dict[str, str] | None = None, status: int = 200
    ) -> Response:
        found = api.call(Call("notifications", "GET", "/me/preferences"))
        return view.render(
            "notification_preferences.html",
            status=status,
            opted_out=found["opted_out"],
            topics=[EVERY_TOPIC, *found["topics"]],
            chosen=found["preferences"],
            channels=CHANNELS,
            errors=errors or {},
        )


def _preference(form: Any) -> dict[str, Any] | None:
    """The preference the form switches, as notifications' body; None when it names no topic, or no
    channel or state this page offers."""
    topic, channel, enabled = form.get("topic", ""), form.get("channel", ""), form.get("enabled")
    if channel not in CHANNELS or enabled not in ("on", "off") or not topic:
        return None
    return {"topic": topic, "channel": channel, "enabled": enabled == "on"}
