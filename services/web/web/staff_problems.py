"""Problem solving (SARA) and tips in the officer's console (issue 26): problem candidates for my
beats (from concerns' scanning) and opening one, the problem workspace (evidence, linked concerns,
notes along the problem-analysis triangle, the response plan, linked referrals, stage moves, the
assessment's figures and closing), and the tips of my beats (listed, read, linked to a problem).

An endpoint group of the web service (mixed into `WebService`), like `web/staff_meetings.py`.
concerns decides who may see and change problems and tips (a beat's officers and supervisors; it
logs every tip read): a resident, an agency or an officer of another beat gets its 403/404 as a
page. Only an anonymous visitor is turned away here, as there is no one to ask on their behalf.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from web import categories
from web.api import ApiClient, ApiError, Call, Refused
from web.domain import problem_form
from web.page import Page
from web.staff import staff_page
from web.survey_windows import score_calls, window_scores

LINKED_REFERRALS_LOOKED_UP = 20  # a problem's concerns whose referrals are offered for linking
BEAT_CONCERNS_SHOWN = 100  # the concerns API's largest page


class ProblemConsole:
    """Officers' problem and tip pages (needs the service's `apis` and `pages` dependencies)."""

    @staff_page("GET", "/staff/problems")
    def staff_problems(self, view: Page, api: ApiClient) -> Response:
        """My beats' problem candidates, open problems and tips (HTML)"""
        return self._problems_page(view, api, problem_form.ProblemForm({}))

    @staff_page("POST", "/staff/beats/<code>/problems")
    def open_problem(self, view: Page, api: ApiClient, code: str) -> Response:
        """Open a problem from a candidate or by hand (HTML redirect)"""
        form = view.request.form
        if form.get("candidate"):
            body = self._candidate_body(api, code, form["candidate"])
            if body is None:  # scanning no longer proposes it (linked meanwhile, or changed)
                return view.render("error.html", status=409, kind="conflict")
            body["tell_reporters"] = form.get("tell_reporters") == "yes"
            made = api.call(Call("concerns", "POST", "/problems", json=body))
            return view.redirect(f"/staff/problems/{made['id']}", flash="problem_opened")
        opened = problem_form.read_open_form(form, code)
        opened.values["beat"] = code  # whose form shows the errors
        if opened.body is not None:
            call = Call("concerns", "POST", "/problems", json=opened.body)
            made = api.submit(call, opened.errors, problem_form.api_errors, otherwise="title")
            if not isinstance(made, Refused):
                return view.redirect(f"/staff/problems/{made['id']}", flash="problem_opened")
        return self._problems_page(view, api, opened, status=400)

    @staff_page("GET", "/staff/problems/<problem_id>")
    def staff_problem(self, view: Page, api: ApiClient, problem_id: str) -> Response:
        """A problem's workspace: evidence, analysis, response plan, assessment (HTML)"""
        return self._workspace_page(view, api, problem_id)

    @staff_page("POST", "/staff/problems/<problem_id>/<part>")
    def change_problem(self, view: Page, api: ApiClient, problem_id: str, part: str) -> Response:
        """Change a problem: link concerns or a referral, add a note or an action, move its stage, close it"""
        reader = problem_form.CHANGES.get(part)
        if reader is None:
            return view.render("error.html", status=404, kind="not_found")
        change = reader(view.request.form)
        if change.body is not None:
            method, path = problem_form.CHANGE_CALLS[part]
            call = Call("concerns", method, f"/problems/{problem_id}{path}", json=change.body)
            if not isinstance(api.submit(call, change.errors, problem_form.api_errors, otherwise=part), Refused):
                return view.redirect(f"/staff/problems/{problem_id}#{part}", flash=f"problem_{part}")
        return self._workspace_page(view, api, problem_id, change, part, status=400)

    # --- tips ---------------------------------------------------------------------------------

    @staff_page("GET", "/staff/beats/<code>/tips")
    def staff_tips(self, view: Page, api: ApiClient, code: str) -> Response:
        """A beat's tips, newest first (HTML; concerns logs the listing)"""
        found = api.gather(
            {
                "tips": Call("concerns", "GET", f"/beats/{code}/tips"),
                "categories": categories.names_call(view.language),
            }
        )
        return view.render(
            "staff/tips.html",
            beat_code=code,
            tips=found["tips"]["tips"],
            category_names=categories.names_from(found["categories"]),
        )

    @staff_page("GET", "/staff/tips/<tip_id>")
    def staff_tip(self, view: Page, api: ApiClient, tip_id: str) -> Response:
        """One tip (HTML; concerns logs the read)"""
        tip = api.call(Call("concerns", "GET", f"/tips/{tip_id}"))
        found = api.gather_outcomes(
            {
                "problems": Call("concerns", "GET", f"/beats/{tip['beat_code']}/problems", params={"stage": "open"}),
                "categories": categories.names_call(view.language),
            }
        )
        problems = [] if isinstance(found["problems"], ApiError) else found["problems"]["problems"]
        return view.render(
            "staff/tip.html", tip=tip, problems=problems, category_names=categories.names_from(found["categories"])
        )

    @staff_page("POST", "/staff/tips/<tip_id>/problem")
    def link_tip(self, view: Page, api: ApiClient, tip_id: str) -> Response:
        """Link a tip to a problem of its beat, or unlink it (HTML redirect)"""
        problem_id = (view.request.form.get("problem_id") or "").strip() or None
        api.call(Call("concerns", "PUT", f"/tips/{tip_id}/problem", json={"problem_id": problem_id}))
        return view.redirect(f"/staff/tips/{tip_id}", flash="tip_linked" if problem_id else "tip_unlinked")

    # --- the pages ----------------------------------------------------------------------------

    def _candidate_body(self, api: ApiClient, code: str, chosen: str) -> dict[str, Any] | None:
        """The `open_with` of the candidate whose concerns are `chosen` (comma-separated ids), as
        scanning proposes it now; None when it no longer does."""
        wanted = set(chosen.split(","))
        found = api.call(Call("concerns", "GET", f"/beats/{code}/problem-candidates"))["candidates"]
        for candidate in found:
            if set(candidate["concern_ids"]) == wanted:
                return dict(candidate["open_with"])
        return None

    def _problems_page(
        self, view: Page, api: ApiClient, opened: problem_form.ProblemForm, status: int = 200
    ) -> Response:
        beats = api.call(Call("concerns", "GET", "/me/beats"))["beats"]
        calls = {"categories": categories.names_call(view.language)}
        for beat in beats:
            code = beat["code"]
            calls[f"candidates {code}"] = Call("concerns", "GET", f"/beats/{code}/problem-candidates")
            calls[f"problems {code}"] = Call("concerns", "GET", f"/beats/{code}/problems", params={"stage": "open"})
        found = api.gather(calls)
        rows = [
            {
                **beat,
                "candidates": found[f"candidates {beat['code']}"]["candidates"],
                "problems": found[f"problems {beat['code']}"]["problems"],
            }
            for beat in beats
        ]
        return view.render(
            "staff/problems.html",
            status=status,
            beats=rows,
            category_names=categories.names_from(found["categories"]),
            opened=opened,
            blank=problem_form.ProblemForm({}),
        )

    def _workspace_page(
        self,
        view: Page,
        api: ApiClient,
        problem_id: str,
        change: problem_form.ProblemForm | None = None,
        part: str | None = None,
        status: int = 200,
    ) -> Response:
        found = api.gather(
            {
                "problem": Call("concerns", "GET", f"/problems/{problem_id}"),
                "assessment": Call("concerns", "GET", f"/problems/{problem_id}/assessment"),
                "categories": categories.names_call(view.language),
            },
            optional=("assessment", "categories"),
        )
        problem = found["problem"]
        assessment = found["assessment"]
        shown = problem.get("assessment") or (None if isinstance(assessment, ApiError) else assessment)
        more = api.gather_outcomes({**_workspace_extras(problem), **score_calls(problem["beat_code"], shown)})
        survey_scores = window_scores(more)
        beat_concerns = more.pop("beat concerns")
        beat_actions = more.pop("beat actions")
        # Open actions meetings agreed that no problem's plan holds yet: they may join this one.
        attachable = (
            []
            if isinstance(beat_actions, ApiError)
            else [
                action
                for action in beat_actions["actions"]
                if action.get("meeting_id") and not action.get("problem_id")
            ]
        )
        linked = {concern["id"] for concern in problem["linked_concerns"]}
        linkable = (
            []
            if isinstance(beat_concerns, ApiError)
            else [concern for concern in beat_concerns["contents"] if concern["id"] not in linked]
        )
        referrals = problem_form.referrals_of(more, [*problem["referral_ids"], *_made_for(problem, more)])
        return view.render(
            "staff/problem.html",
            status=status,
            problem=problem,
            linkable=linkable,
            attachable=attachable,
            referrals=referrals,
            assessment=None if isinstance(assessment, ApiError) else assessment,
            assessment_refusal=assessment.message if isinstance(assessment, ApiError) else None,
            survey_scores=survey_scores,
            category_names=categories.names_from(found["categories"]),
            moves=problem_form.MOVES.get(problem["stage"], ()),
            change=change or problem_form.ProblemForm({}),
            part=part,
            sides=problem_form.NOTE_SIDES,
            owner_kinds=problem_form.OWNER_KINDS,
            outcomes=problem_form.OUTCOMES,
        )


def _workspace_extras(problem: dict[str, Any]) -> dict[str, Call]:
    """The second round of a workspace's calls, made together: the beat's concerns (to link), its
    meetings' open actions (to attach to the plan), the referrals of its linked concerns (to link,
    and to name the ones linked) and those drafted from its own referral requests (their live status)."""
    calls = {
        "beat concerns": Call(
            "concerns", "GET", "/concerns", params={"beat": problem["beat_code"], "per_page": BEAT_CONCERNS_SHOWN}
        ),
        "beat actions": Call("concerns", "GET", f"/beats/{problem['beat_code']}/actions", params={"status": "open"}),
    }
    for concern in problem["linked_concerns"][:LINKED_REFERRALS_LOOKED_UP]:
        calls[concern["id"]] = Call("referrals", "GET", "/referrals", params={"concern_id": concern["id"]})
    for request in problem["referral_requests"][-LINKED_REFERRALS_LOOKED_UP:]:
        key = f"request {request['request_id']}"
        calls[key] = Call("referrals", "GET", "/referrals", params={"request_id": request["request_id"]})
    return calls


def _made_for(problem: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """The referrals drafted from the problem's own requests, linked even before concerns has heard
    of them (its `beat.referral.created` may still be on its way)."""
    made = []
    for request in problem["referral_requests"]:
        answer = found.get(f"request {request['request_id']}")
        if isinstance(answer, dict):
            made += [row["id"] for row in answer["contents"] if row["id"] not in problem["referral_ids"]]
    return made
