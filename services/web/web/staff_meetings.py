"""Meetings in the officer's console: my beats' meetings and open actions, scheduling a meeting
with an agenda chosen from the beat's top concerns, recording what it agreed (attendees, summary,
actions with owners and due dates, the period's priorities), and marking actions done.

An endpoint group of the web service (mixed into `WebService`), like `web/staff.py`. concerns
decides who may plan and change a beat's meetings (its officers, supervisors and admins). Its
meeting reads are public (residents see meetings on the beat page), so the staff view of a meeting
is shown here only to staff who work its beat (`GET /me/beats`); anyone else gets a 403 page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from werkzeug.wrappers import Response

from beat_shared.contracts.catalogue import MEETING_KINDS
from web import categories
from web.api import ApiClient, Call, Refused
from web.domain import meeting_form
from web.domain.meeting_form import MeetingForm
from web.page import Page, local_path
from web.staff import staff_page

ACTION_STATUSES = ("open", "done")


class MeetingConsole:
    """Officers' meeting pages (needs the service's `apis` and `pages` dependencies)."""

    @staff_page("GET", "/staff/meetings")
    def staff_meetings(self, view: Page, api: ApiClient) -> Response:
        """My beats' meetings and actions (HTML)"""
        beats = api.call(Call("concerns", "GET", "/me/beats"))["beats"]
        calls = {}
        for beat in beats:
            code = beat["code"]
            calls[("meetings", code)] = Call("concerns", "GET", f"/beats/{code}/meetings", params={"when": "all"})
            calls[("actions", code)] = Call("concerns", "GET", f"/beats/{code}/actions", params={"status": "open"})
        found = api.gather(calls)
        rows = [
            {
                **beat,
                "meetings": _in_order(found[("meetings", beat["code"])]["meetings"]),
                "actions": found[("actions", beat["code"])]["actions"],
            }
            for beat in beats
        ]
        return view.render("staff/meetings.html", beats=rows)

    @staff_page("GET", "/staff/beats/<code>/meetings/new")
    def new_meeting(self, view: Page, api: ApiClient, code: str) -> Response:
        """Schedule a meeting: the form, with an agenda suggested from the beat's top concerns (HTML)"""
        return self._schedule_page(view, api, code, MeetingForm({"kind": "community_meeting"}), chosen_all=True)

    @staff_page("POST", "/staff/beats/<code>/meetings")
    def schedule_meeting(self, view: Page, api: ApiClient, code: str) -> Response:
        """Schedule a meeting (HTML redirect)"""
        meeting = meeting_form.read_schedule_form(view.request.form)
        body = None if meeting.errors else meeting_form.schedule_body(meeting, view.settings.timezone)
        if body is not None:
            call = Call("concerns", "POST", f"/beats/{code}/meetings", json=body)
            made = api.submit(call, meeting.errors, meeting_form.api_errors, otherwise="title")
            if not isinstance(made, Refused):
                return view.redirect(f"/staff/meetings/{made['id']}", flash="meeting_scheduled")
        return self._schedule_page(view, api, code, meeting, status=400)

    @staff_page("GET", "/staff/meetings/<meeting_id>")
    def staff_meeting(self, view: Page, api: ApiClient, meeting_id: str) -> Response:
        """A meeting, for its beat's staff: agenda, what it agreed, the form to conclude it (HTML)"""
        return self._meeting_page(view, api, meeting_id, MeetingForm({}))

    @staff_page("POST", "/staff/meetings/<meeting_id>/conclusion")
    def conclude_meeting(self, view: Page, api: ApiClient, meeting_id: str) -> Response:
        """Record what a meeting agreed (HTML redirect)"""
        conclusion = meeting_form.read_conclusion_form(view.request.form)
        body = meeting_form.conclusion_body(conclusion)
        if body is not None:
            call = Call("concerns", "POST", f"/meetings/{meeting_id}/conclusion", json=body)
            if not isinstance(api.submit(call, conclusion.errors, meeting_form.api_errors, "summary"), Refused):
                return view.redirect(f"/staff/meetings/{meeting_id}", flash="meeting_concluded")
        return self._meeting_page(view, api, meeting_id, conclusion, status=400)

    @staff_page("POST", "/staff/actions/<action_id>")
    def update_action(self, view: Page, api: ApiClient, action_id: str) -> Response:
        """Mark an agreed action done, or open again (HTML redirect)"""
        status = view.request.form.get("status")
        if status not in ACTION_STATUSES:
            return view.render("error.html", status=400, kind="bad_request")
        api.call(Call("concerns", "PATCH", f"/actions/{action_id}", json={"status": status}))
        back = local_path(view.request.form.get("back") or "/staff/meetings")
        return view.redirect(back, flash="action_done" if status == "done" else "action_reopened")

    def _schedule_page(
        self, view: Page, api: ApiClient, code: str, meeting: MeetingForm, status: int = 200, chosen_all: bool = False
    ) -> Response:
        found = api.gather(
            {
                "agenda": Call("concerns", "GET", f"/beats/{code}/agenda"),
                "categories": Call("concerns", "GET", "/categories"),
            },
            optional=("categories",),
        )
        suggested = found["agenda"]["agenda"]
        chosen = [item["concern_id"] for item in suggested] if chosen_all else meeting.agenda
        return view.render(
            "staff/meeting_new.html",
            status=status,
            beat_code=code,
            suggested=suggested,
            problems=found["agenda"].get("problems", []),  # the beat's open problems (issue 26)
            chosen=set(chosen),
            category_names=categories.names_from(found["categories"]),
            meeting=meeting,
            kinds=MEETING_KINDS,
        )

    def _meeting_page(
        self, view: Page, api: ApiClient, meeting_id: str, conclusion: MeetingForm, status: int = 200
    ) -> Response:
        found = api.gather(
            {
                "meeting": Call("concerns", "GET", f"/meetings/{meeting_id}"),
                "mine": Call("concerns", "GET", "/me/beats"),
                "categories": Call("concerns", "GET", "/categories"),
            },
            optional=("categories",),
        )
        meeting = found["meeting"]
        if meeting["beat_code"] not in {beat["code"] for beat in found["mine"]["beats"]}:
            return view.render("error.html", status=403, kind="forbidden")
        period = conclusion.values.get("period") or meeting_form.current_period(_today())
        agreed = api.call(
            Call("concerns", "GET", f"/beats/{meeting['beat_code']}/priorities", params={"period": period})
        )
        return view.render(
            "staff/meeting.html",
            status=status,
            meeting=meeting,
            priorities=[item for item in agreed["items"] if item.get("meeting_id") == meeting_id],
            period=period,
            category_names=categories.names_from(found["categories"]),
            conclusion=conclusion,
            action_rows=range(meeting_form.ACTION_ROWS),
            priority_rows=range(meeting_form.PRIORITY_ROWS),
        )


def _in_order(meetings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scheduled meetings first, then the others, each newest first (RFC 3339 UTC sorts as time)."""
    newest = sorted(meetings, key=lambda meeting: meeting["starts_at"], reverse=True)
    return sorted(newest, key=lambda meeting: meeting["status"] != "scheduled")


def _today() -> date:
    """Today as concerns counts periods (UTC), so that the beat page shows the same quarter."""
    return datetime.now(UTC).date()
