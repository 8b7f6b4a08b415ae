"""Supervisors' pages: overdue concerns across beats and the unplaced queue, officers' assignments
to beats (assign and unassign), and the categories with their questions and response times.

An endpoint group of the web service (mixed into `WebService`). concerns decides what a supervisor
may do (its 400/403/404 come back as pages); these pages are the supervisors' view, so they turn
away anyone else signed in (beats and categories are public reads in concerns, and an officer's
`GET /concerns` is their own beats, which is not this page's question). Supervisors read the
categories; admins, whom concerns lets change them, change a category's names, time to acknowledge
and questions' wording with a form, sent as a merge patch (`PATCH /categories/{code}`) so that what
the form does not show (descriptions, answers, other languages) is kept.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from web.api import ApiClient, Call, Refused
from web.domain import category_form
from web.domain.category_form import MAX_HOURS, CategoryForm
from web.page import Page, page_group, role_in

MANAGER_ROLES = ("supervisor", "admin")
ADMIN_ROLES = ("admin",)  # who may change categories in concerns (beat_shared.roles.ADMINS)
LIST_SIZE = 100  # the concerns API's largest page

# Anyone else (anonymous, or signed in with another role) gets a refusal page.
manager_page = page_group("supervisor pages", role_in(*MANAGER_ROLES))
admin_page = page_group("supervisor pages", role_in(*ADMIN_ROLES))


class SupervisorConsole:
    """Supervisors' pages (needs the service's `apis` and `pages` dependencies)."""

    @manager_page("GET", "/supervisor")
    def supervisor_home(self, view: Page, api: ApiClient) -> Response:
        """Overdue concerns across beats and the unplaced queue (HTML, supervisors)"""
        found = api.gather(
            {
                "overdue": Call("concerns", "GET", "/concerns", params={"overdue": "true", "per_page": LIST_SIZE}),
                "unplaced": Call("concerns", "GET", "/concerns", params={"queue": "unplaced", "per_page": LIST_SIZE}),
            }
        )
        overdue = sorted(
            found["overdue"]["contents"], key=lambda row: (row.get("beat_code") or "", row["submitted_at"])
        )
        unplaced = sorted(found["unplaced"]["contents"], key=lambda row: row["submitted_at"])
        counts = {part: answer["total_items"] for part, answer in found.items()}
        return view.render("supervisor/home.html", overdue=overdue, unplaced=unplaced, counts=counts)

    @manager_page("GET", "/supervisor/assignments")
    def assignments(self, view: Page, api: ApiClient) -> Response:
        """Officers' assignments to beats (HTML, supervisors)"""
        return self._assignments_page(view, api)

    @manager_page("POST", "/supervisor/assignments")
    def change_assignment(self, view: Page, api: ApiClient) -> Response:
        """Assign an officer to a beat, or unassign them (HTML redirect)"""
        form = view.request.form
        beat, subject, move = form.get("beat", ""), (form.get("subject") or "").strip(), form.get("move")
        if move not in ("assign", "unassign") or not beat:
            return view.render("error.html", status=400, kind="bad_request")
        if not subject:
            return self._assignments_page(view, api, typed={"beat": beat}, errors={"subject": "required"}, status=400)
        if move == "assign":
            change = Call("concerns", "POST", f"/beats/{beat}/officers", json={"subject": subject})
        else:
            change = Call("concerns", "DELETE", f"/beats/{beat}/officers/{subject}")
        if isinstance(api.submit(change), Refused):
            typed = {"beat": beat, "subject": subject}
            return self._assignments_page(view, api, typed=typed, errors={"subject": "unknown"}, status=400)
        return view.redirect(
            "/supervisor/assignments", flash="officer_assigned" if move == "assign" else "officer_unassigned"
        )

    @manager_page("GET", "/supervisor/categories")
    def categories(self, view: Page, api: ApiClient) -> Response:
        """Categories with their questions and response times (HTML, supervisors)"""
        found = api.call(Call("concerns", "GET", "/categories"))
        editable = view.person is not None and view.person["role"] in ADMIN_ROLES
        return view.render("supervisor/categories.html", categories=found["categories"], editable=editable)

    @admin_page("GET", "/supervisor/categories/<code>")
    def category_form(self, view: Page, api: ApiClient, code: str) -> Response:
        """The form to change a category's names, time to acknowledge and questions (HTML, admins)"""
        category = _source_category(api, code)
        return _category_page(view, category, CategoryForm(category_form.values_of(category)))

    @admin_page("POST", "/supervisor/categories/<code>")
    def change_category(self, view: Page, api: ApiClient, code: str) -> Response:
        """Change a category (HTML redirect, admins)"""
        category = _source_category(api, code)  # the stored questions, read just before they are sent back
        typed = category_form.read(view.request.form, category)
        if not typed.errors:
            patch = category_form.patch_of(typed, category)
            call = Call("concerns", "PATCH", f"/categories/{code}", json=patch)
            if not isinstance(api.submit(call, typed.errors, category_form.api_errors), Refused):
                return view.redirect(f"/supervisor/categories#category-{code}", flash="category_saved")
        return _category_page(view, category, typed, status=400)

    def _assignments_page(
        self,
        view: Page,
        api: ApiClient,
        typed: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        beats = api.call(Call("concerns", "GET", "/beats"))["beats"]
        pages = api.gather({beat["code"]: Call("concerns", "GET", f"/beats/{beat['code']}") for beat in beats})
        rows = [{**beat, "officers": pages[beat["code"]]["officers"]} for beat in beats]
        known = {officer["subject"]: officer for row in rows for officer in row["officers"]}
        return view.render(
            "supervisor/assignments.html",
            status=status,
            beats=rows,
            known=sorted(known.values(), key=lambda officer: officer["name"] or officer["subject"]),
            typed=typed or {},
            errors=errors or {},
        )


def _source_category(api: ApiClient, code: str) -> dict[str, Any]:
    """The category as stored: its English words (`lang=en`) and every translation (404 page if unknown)."""
    return api.call(Call("concerns", "GET", f"/categories/{code}", params={"lang": "en"}))


def _category_page(view: Page, category: dict[str, Any], form: CategoryForm, status: int = 200) -> Response:
    return view.render(
        "supervisor/category_edit.html", status=status, category=category, form=form, most_hours=MAX_HOURS
    )
