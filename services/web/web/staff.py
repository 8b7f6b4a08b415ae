"""The officer's console: my beat's queue and a concern's page, where officers act on concerns.

An endpoint group of the web service (mixed into `WebService`). Every page calls the concerns API
with the signed-in person's own token: concerns decides who may see and change what (an officer of
another beat, a resident or an agency gets its 403/404, shown as a page). Only an anonymous visitor
is turned away here, as there is no one to ask on their behalf.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from web import categories, forms
from web.api import ApiClient, ApiError, Call, Refused
from web.domain import queue
from web.page import Page, anyone_signed_in, page_group

QUEUE_PAGE_SIZE = 100  # the concerns API's largest page; a beat's open concerns fit in it
NOTE_FIELDS = ("public_note", "internal_note")
REFERRALS_SHOWN = 20


staff_page = page_group("staff pages", anyone_signed_in)


def with_service_names(api: ApiClient, found: Any) -> list[dict[str, Any]] | None:
    """Referrals (a `GET /referrals` answer), each with its service's name; None when the list could
    not be had (a concern's page still shows the concern and says so)."""
    if isinstance(found, ApiError):
        return None
    service_ids = sorted({row["service_id"] for row in found["contents"] if row.get("service_id")})
    services = api.gather_outcomes({sid: Call("referrals", "GET", f"/services/{sid}") for sid in service_ids})
    return [{**row, "service_name": _name(services.get(row.get("service_id")))} for row in found["contents"]]


def _name(service: Any) -> str | None:
    return service.get("name") if isinstance(service, dict) else None


class OfficerConsole:
    """Officers' pages (needs the service's `apis` and `pages` dependencies)."""

    @staff_page("GET", "/staff/queue")
    def staff_queue(self, view: Page, api: ApiClient) -> Response:
        """My beat's queue (HTML, staff)"""
        sort = queue.chosen_sort(view.request.args.get("sort"))
        calls = {
            part: Call("concerns", "GET", "/concerns", params={**filters, "per_page": QUEUE_PAGE_SIZE})
            for part, filters in queue.QUEUE_PARTS.items()
        }
        found, names = categories.gather(api, view.language, calls)
        parts = {
            part: queue.sorted_concerns(categories.in_language(answer["contents"], names), sort)
            for part, answer in found.items()
        }
        counts = {part: answer["total_items"] for part, answer in found.items()}
        return view.render("staff/queue.html", parts=parts, counts=counts, sort=sort, sorts=queue.SORTS)

    @staff_page("GET", "/staff/concerns/<concern_id>")
    def staff_concern(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """A concern, for officers (HTML)"""
        return self._concern_page(view, api, concern_id)

    @staff_page("POST", "/staff/concerns/<concern_id>/step")
    def staff_step(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """Move a concern to its next step, with notes (HTML redirect)"""
        form = view.request.form
        body = {"status": form.get("status", ""), "version": _version(form), **_notes(form)}
        if form.get("merged_into"):  # merging into a likely duplicate
            body["merged_into"] = form["merged_into"]
        return self._send(
            view, api, concern_id, Call("concerns", "POST", f"/concerns/{concern_id}/transitions", json=body), "step"
        )

    @staff_page("POST", "/staff/concerns/<concern_id>/note")
    def staff_note(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """Add a note without changing the status (HTML redirect)"""
        notes = _notes(view.request.form)
        if not any(notes.values()):
            errors = {name: "required" for name in NOTE_FIELDS}
            return self._concern_page(view, api, concern_id, form="note", typed=notes, errors=errors, status=400)
        body = {"version": _version(view.request.form), **notes}
        return self._send(
            view, api, concern_id, Call("concerns", "POST", f"/concerns/{concern_id}/notes", json=body), "note"
        )

    def _send(self, view: Page, api: ApiClient, concern_id: str, request: Call, form: str) -> Response:
        """Send a step or a note; a refusal of what was typed shows the page again with it."""
        sent = api.submit(request)
        if isinstance(sent, Refused):
            errors = forms.api_errors(sent.details) or {"status": "invalid"}
            typed = {name: request.json.get(name) or "" for name in NOTE_FIELDS}
            return self._concern_page(view, api, concern_id, form=form, typed=typed, errors=errors, status=400)
        return view.redirect(f"/staff/concerns/{concern_id}", flash="step_recorded" if form == "step" else "note_added")

    def _concern_page(
        self,
        view: Page,
        api: ApiClient,
        concern_id: str,
        form: str | None = None,
        typed: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        referrals = {"concern_id": concern_id, "per_page": REFERRALS_SHOWN}
        found, names = categories.gather(
            api,
            view.language,
            {
                "concern": Call("concerns", "GET", f"/concerns/{concern_id}"),
                "referrals": Call("referrals", "GET", "/referrals", params=referrals),
            },
            optional=("referrals",),  # the page still shows the concern, and says so
        )
        concern = found["concern"]
        duplicates = _likely_duplicates(api, concern)
        categories.in_language([concern, *(row["concern"] for row in duplicates or [])], names)
        return view.render(
            "staff/concern.html",
            status=status,
            concern=concern,
            duplicates=duplicates,
            referrals=with_service_names(api, found["referrals"]),
            contact=queue.reporter_contact(concern),
            steps=queue.steps_offered(concern["status"]),
            form_with_errors=form,
            typed=typed or {},
            errors=errors or {},
        )


def _likely_duplicates(api: ApiClient, concern: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Other open concerns of its kind nearby, which it may be merged into; [] when it has no map
    location or can no longer be merged, None when concerns could not say."""
    location = concern.get("location") or {}
    if location.get("lat") is None or not queue.mergeable(concern["status"]):
        return []
    params = {"category": concern["category"], "lat": location["lat"], "long": location["long"]}
    try:
        found = api.call(Call("concerns", "GET", "/concerns/similar", params=params))["possible_duplicates"]
    except ApiError:
        return None
    return [row for row in found if row["concern_id"] != concern["id"]]


def _notes(form: Any) -> dict[str, str | None]:
    return {name: (form.get(name) or "").strip() or None for name in NOTE_FIELDS}


def _version(form: Any) -> int | None:
    try:
        return int(form.get("version", ""))
    except ValueError:
        return None
