"""Referring someone from a concern or for a problem: search the agency directory, record consent,
send; and the referrals made for a concern, shown on its page with their lifecycle and outcome (a
problem's are shown in its workspace, `web/staff_problems.py`).

An endpoint group of the web service (mixed into `WebService`), like `web/staff.py`. The request
goes to concerns (`POST /referral-requests`, which records the consent and announces it); referrals
drafts a referral to the best-matching service, and the officer sends the draft from the concern's
page (`POST /referrals/{id}/send`). Both services decide who may do this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from beat_shared.contracts.catalogue import URGENCIES
from web import categories
from web.api import ApiClient, ApiError, Call, Refused
from web.domain import queue
from web.domain.referral_form import (
    CLIENT_LANGUAGES,
    CONSENT_METHODS,
    ReferralForm,
    api_errors,
    read_referral_form,
    request_body,
)
from web.page import Page
from web.staff import staff_page

NEED_TERMS = 100  # the need categories' taxonomy terms fit in one page
MATCHES_SHOWN = 10


class ReferralConsole:
    """Officers' referral pages (needs the service's `apis` and `pages` dependencies)."""

    @staff_page("GET", "/staff/concerns/<concern_id>/refer")
    def refer_page(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """Refer someone from a concern: search the directory, record consent (HTML)"""
        concern = categories.concern(api, view.language, Call("concerns", "GET", f"/concerns/{concern_id}"))
        contact = queue.reporter_contact(concern) or {}
        typed = {
            "need": view.request.args.get("need", ""),
            "urgency": "routine",
            "name": contact.get("name", ""),
            "email": contact.get("address", "") if contact.get("preference") == "email" else "",
            "phone": contact.get("address", "") if contact.get("preference") == "sms" else "",
            "client_language": concern.get("language") or "en",
        }
        return self._refer_page(view, api, ReferFor.concern(concern), ReferralForm(typed))

    @staff_page("POST", "/staff/concerns/<concern_id>/refer")
    def refer(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """Refer someone from a concern: send the request (HTML redirect)"""
        referral = read_referral_form(view.request.form)
        body = None if referral.errors else request_body(concern_id, referral, view.settings.timezone)
        if body is not None:
            call = Call("concerns", "POST", "/referral-requests", json=body)
            if not isinstance(api.submit(call, referral.errors, api_errors, otherwise="need"), Refused):
                return view.redirect(f"/staff/concerns/{concern_id}", flash="referral_requested")
        concern = categories.concern(api, view.language, Call("concerns", "GET", f"/concerns/{concern_id}"))
        return self._refer_page(view, api, ReferFor.concern(concern), referral, status=400)

    @staff_page("GET", "/staff/problems/<problem_id>/refer")
    def refer_for_problem_page(self, view: Page, api: ApiClient, problem_id: str) -> Response:
        """Refer someone for a problem: search the directory, record consent (HTML)"""
        problem = api.call(Call("concerns", "GET", f"/problems/{problem_id}"))
        typed = {"need": view.request.args.get("need", ""), "urgency": "routine", "client_language": view.language}
        return self._refer_page(view, api, ReferFor.problem(problem), ReferralForm(typed))

    @staff_page("POST", "/staff/problems/<problem_id>/refer")
    def refer_for_problem(self, view: Page, api: ApiClient, problem_id: str) -> Response:
        """Refer someone for a problem: send the request; the referral joins the problem (HTML redirect)"""
        referral = read_referral_form(view.request.form)
        body = None if referral.errors else request_body("", referral, view.settings.timezone)
        if body is not None:
            body.pop("concern_id")  # the problem names its beat; no concern is referred from
            call = Call("concerns", "POST", f"/problems/{problem_id}/referral-requests", json=body)
            if not isinstance(api.submit(call, referral.errors, api_errors, otherwise="need"), Refused):
                return view.redirect(f"/staff/problems/{problem_id}#referrals", flash="referral_requested")
        problem = api.call(Call("concerns", "GET", f"/problems/{problem_id}"))
        return self._refer_page(view, api, ReferFor.problem(problem), referral, status=400)

    @staff_page("POST", "/staff/referrals/<referral_id>/send")
    def send_referral(self, view: Page, api: ApiClient, referral_id: str) -> Response:
        """Send a drafted referral to its agency (HTML redirect)"""
        sent = api.call(Call("referrals", "POST", f"/referrals/{referral_id}/send"))
        problem_id = (view.request.form.get("problem_id") or "").strip()
        if problem_id:  # sent from a problem's workspace: back to its referrals
            return view.redirect(f"/staff/problems/{problem_id}#referrals", flash="referral_sent")
        if not sent.get("concern_id"):
            return view.redirect("/staff/queue", flash="referral_sent")
        return view.redirect(f"/staff/concerns/{sent['concern_id']}", flash="referral_sent")

    def _refer_page(
        self, view: Page, api: ApiClient, subject: ReferFor, referral: ReferralForm, status: int = 200
    ) -> Response:
        need = view.request.args.get("need") or referral.values.get("need") or ""
        language = view.request.args.get("language") or ""
        calls = {"needs": Call("referrals", "GET", "/taxonomy_terms", params={"per_page": NEED_TERMS})}
        if need:
            calls["matches"] = Call("referrals", "GET", "/match", params=_match_params(subject, need, language))
        found = api.gather(calls, optional=("matches",))  # the form still shows when the search fails
        matches = found.get("matches")
        return view.render(
            "staff/refer.html",
            status=status,
            subject=subject,
            needs=found["needs"]["contents"],
            need=need,
            language=language,
            matches=None if matches is None or isinstance(matches, ApiError) else matches["contents"],
            search_failed=isinstance(matches, ApiError),
            referral=referral,
            urgencies=URGENCIES,
            methods=CONSENT_METHODS,
            client_languages=CLIENT_LANGUAGES,
        )


@dataclass(frozen=True)
class ReferFor:
    """What someone is referred from: a concern, or a problem (the referral then joins the problem)."""

    kind: str  # "concern" or "problem": the page's words
    path: str  # the officer's page of it; the form is its /refer
    title: str
    location: dict[str, Any]  # {"lat", "long"}, or empty: the directory is searched near it, else in the beat
    beat_code: str | None

    @classmethod
    def concern(cls, concern: dict[str, Any]) -> ReferFor:
        path = f"/staff/concerns/{concern['id']}"
        return cls("concern", path, concern["category_name"], concern.get("location") or {}, concern.get("beat_code"))

    @classmethod
    def problem(cls, problem: dict[str, Any]) -> ReferFor:
        centre = (problem.get("area") or {}).get("centre") or {}
        return cls("problem", f"/staff/problems/{problem['id']}", problem["title"], centre, problem["beat_code"])


def _match_params(subject: ReferFor, need: str, language: str) -> dict[str, Any]:
    """Near the concern's location or the problem's centre when there is one, else in the beat."""
    params: dict[str, Any] = {"need_category": need, "limit": MATCHES_SHOWN}
    if subject.location.get("lat") is not None:
        params |= {"latitude": subject.location["lat"], "longitude": subject.location["long"]}
    elif subject.beat_code:
        params["beat_code"] = subject.beat_code
    if language:
        params["language"] = language
    return params
