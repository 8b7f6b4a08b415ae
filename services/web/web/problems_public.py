"""Problems and tips as residents meet them (issue 26): a problem's public page (no personal data:
concerns answers it without notes, concerns' details, owners' names or tips, the area rounded) and
the form that passes a tip to a beat's officers (never published; its notice is concerns' own
configured text: not an emergency line, not anonymous where the law requires otherwise).

An endpoint group of the web service (mixed into `WebService`).
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from web.api import ApiClient, ApiError, Call
from web.domain.problem_form import ProblemForm
from web.page import Page, page, page_http
from web.staff_meetings import _categories
from web.survey_windows import score_calls, window_scores

TIP_MAX = 4000  # concerns' limit, told to the browser too
CONTACT_MAX = 320


class ResidentProblems:
    """Public problem page and the tip form (needs the service's `apis` and `pages` dependencies)."""

    @page_http(
        "GET", "/problems/<problem_id>", auth="none", summary="A problem, as the public sees it (HTML)", tags=["pages"]
    )
    @page
    def public_problem(self, view: Page, api: ApiClient, problem_id: str) -> Response:
        found = api.gather_outcomes(
            {
                "problem": Call("concerns", "GET", f"/public/problems/{problem_id}"),
                "categories": Call("concerns", "GET", "/categories", params={"lang": view.language}),
            }
        )
        problem = found["problem"]
        if isinstance(problem, ApiError):
            raise problem
        # The windows come with the problem: the survey scores of both are asked together after it.
        calls = score_calls(problem["beat_code"], problem.get("assessment"))
        survey_scores = window_scores(api.gather_outcomes(calls)) if calls else None
        return view.render(
            "problem.html",
            problem=problem,
            category_names=_categories(found["categories"]),
            survey_scores=survey_scores,
        )

    @page_http(
        "GET",
        "/beats/<code>/tip",
        auth="none",
        summary="Give the beat's officers a tip: the form (HTML)",
        tags=["pages"],
    )
    @page
    def tip_form(self, view: Page, api: ApiClient, code: str) -> Response:
        return self._tip_page(view, api, code, {}, {})

    @page_http(
        "POST",
        "/beats/<code>/tip",
        auth="none",
        summary="Give the beat's officers a tip (HTML redirect)",
        tags=["pages"],
    )
    @page
    def give_tip(self, view: Page, api: ApiClient, code: str) -> Response:
        form = view.request.form
        typed = {name: (form.get(name) or "").strip() for name in ("text", "category", "contact")}
        errors = {"text": "required"} if not typed["text"] else {}
        if not errors:
            body = {
                "beat_code": code,
                "text": typed["text"],
                "category": typed["category"] or None,
                "contact": typed["contact"] or None,
                "language": view.language,
            }
            try:
                api.call(Call("concerns", "POST", "/tips", json=body))
                return view.redirect(f"/beats/{code}/tip/sent")
            except ApiError as error:
                if error.status != 400:
                    raise
                details = error.details if isinstance(error.details, dict) else {}
                errors = {name: "invalid" for name in details if name in typed} or {"text": "invalid"}
        return self._tip_page(view, api, code, typed, errors, status=400)

    @page_http("GET", "/beats/<code>/tip/sent", auth="none", summary="A tip was passed on (HTML)", tags=["pages"])
    @page
    def tip_sent(self, view: Page, api: ApiClient, code: str) -> Response:
        notice = api.call(Call("concerns", "GET", "/tips/notice", params={"language": view.language}))["notice"]
        return view.render("tip_sent.html", beat_code=code, notice=notice)

    def _tip_page(
        self, view: Page, api: ApiClient, code: str, typed: dict[str, str], errors: dict[str, str], status: int = 200
    ) -> Response:
        found = api.gather_outcomes(
            {
                "beat": Call("concerns", "GET", f"/beats/{code}"),
                "notice": Call("concerns", "GET", "/tips/notice", params={"language": view.language}),
                "categories": Call("concerns", "GET", "/categories", params={"lang": view.language}),
            }
        )
        for part in ("beat", "notice"):
            if isinstance(found[part], ApiError):
                raise found[part]
        return view.render(
            "tip_form.html",
            status=status,
            beat=found["beat"]["beat"],
            notice=found["notice"]["notice"],
            category_names=_categories(found["categories"]),
            typed=typed,
            errors=errors,
            form=ProblemForm(typed, None, errors),
            tip_max=TIP_MAX,
            contact_max=CONTACT_MAX,
        )
