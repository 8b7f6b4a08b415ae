"""Problems and tips as residents meet them (issue 26): a problem's public page (no personal data:
concerns answers it without notes, concerns' details, owners' names or tips, the area rounded) and
the form that passes a tip to a beat's officers (never published; its notice is concerns' own
configured text: not an emergency line, not anonymous where the law requires otherwise).

An endpoint group of the web service (mixed into `WebService`).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from web import categories
from web.api import ApiClient, Call, Refused
from web.domain.problem_form import ProblemForm
from web.page import Page, page_group
from web.survey_windows import score_calls, window_scores

TIP_MAX = 4000  # concerns' limit, told to the browser too
CONTACT_MAX = 320
TIP_FIELDS = ("text", "category", "contact")

resident_page = page_group("pages")


class ResidentProblems:
    """Public problem page and the tip form (needs the service's `apis` and `pages` dependencies)."""

    @resident_page("GET", "/problems/<problem_id>")
    def public_problem(self, view: Page, api: ApiClient, problem_id: str) -> Response:
        """A problem, as the public sees it (HTML)"""
        found = api.gather(
            {
                "problem": Call("concerns", "GET", f"/public/problems/{problem_id}"),
                "categories": categories.names_call(view.language),
            },
            optional=("categories",),
        )
        problem = found["problem"]
        # The windows come with the problem: the survey scores of both are asked together after it.
        calls = score_calls(problem["beat_code"], problem.get("assessment"))
        survey_scores = window_scores(api.gather_outcomes(calls)) if calls else None
        return view.render(
            "problem.html",
            problem=problem,
            category_names=categories.names_from(found["categories"]),
            survey_scores=survey_scores,
        )

    @resident_page("GET", "/beats/<code>/tip")
    def tip_form(self, view: Page, api: ApiClient, code: str) -> Response:
        """Give the beat's officers a tip: the form (HTML)"""
        return self._tip_page(view, api, code, {}, {})

    @resident_page("POST", "/beats/<code>/tip")
    def give_tip(self, view: Page, api: ApiClient, code: str) -> Response:
        """Give the beat's officers a tip (HTML redirect)"""
        form = view.request.form
        typed = {name: (form.get(name) or "").strip() for name in TIP_FIELDS}
        errors = {"text": "required"} if not typed["text"] else {}
        if not errors:
            body = {
                "beat_code": code,
                "text": typed["text"],
                "category": typed["category"] or None,
                "contact": typed["contact"] or None,
                "language": view.language,
            }
            call = Call("concerns", "POST", "/tips", json=body)
            if not isinstance(api.submit(call, errors, _tip_errors, otherwise="text"), Refused):
                return view.redirect(f"/beats/{code}/tip/sent")
        return self._tip_page(view, api, code, typed, errors, status=400)

    @resident_page("GET", "/beats/<code>/tip/sent")
    def tip_sent(self, view: Page, api: ApiClient, code: str) -> Response:
        """A tip was passed on (HTML)"""
        notice = api.call(Call("concerns", "GET", "/tips/notice", params={"language": view.language}))["notice"]
        return view.render("tip_sent.html", beat_code=code, notice=notice)

    def _tip_page(
        self, view: Page, api: ApiClient, code: str, typed: dict[str, str], errors: dict[str, str], status: int = 200
    ) -> Response:
        found = api.gather(
            {
                "beat": Call("concerns", "GET", f"/beats/{code}"),
                "notice": Call("concerns", "GET", "/tips/notice", params={"language": view.language}),
                "categories": categories.names_call(view.language),
            },
            optional=("categories",),
        )
        return view.render(
            "tip_form.html",
            status=status,
            beat=found["beat"]["beat"],
            notice=found["notice"]["notice"],
            category_names=categories.names_from(found["categories"]),
            typed=typed,
            errors=errors,
            form=ProblemForm(typed, None, errors),
            tip_max=TIP_MAX,
            contact_max=CONTACT_MAX,
        )


def _tip_errors(details: Any) -> dict[str, str]:
    """concerns' 400 details as the tip form's fields."""
    return {name: "invalid" for name in details if name in TIP_FIELDS} if isinstance(details, dict) else {}
