"""The agency's referral inbox: referrals addressed to this agency, a referral's details, accept,
decline with a reason, start, complete with an outcome, and the agency's outcome report.

An endpoint group of the web service (mixed into `WebService`). Every call carries the agency
worker's own token (with its `agency_id`): referrals shows an agency only its own referrals (another
agency's are a 404), shows the client's details only while consent is valid, and audits every such
read. These pages are the agency's view, so they turn away anyone signed in without the agency role
(the referrals API would show officers the referrals, but not let them act as the agency).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from beat_shared.contracts.catalogue import REFERRAL_DECLINE_REASONS, REFERRAL_OUTCOMES
from web.api import ApiClient, Call
from web.page import Page, page_group, role_in
from web.staff import with_service_names

INBOX_PARTS = ("sent", "accepted", "in_progress", "completed")  # "sent" is new for the agency
INBOX_PAGE_SIZE = 50
# What each form posts to, and the referrals API call it makes.
AGENCY_MOVES = {"accept": "accept", "decline": "decline", "start": "start", "complete": "outcome"}

# Anyone else (anonymous, or signed in without the agency role) gets a refusal page.
agency_page = page_group("agency pages", role_in("agency"))


class AgencyInbox:
    """Agency pages (needs the service's `apis` and `pages` dependencies)."""

    @agency_page("GET", "/agency/referrals")
    def agency_inbox(self, view: Page, api: ApiClient) -> Response:
        """The agency's inbox (HTML)"""
        calls = {
            part: Call("referrals", "GET", "/referrals", params={"status": part, "per_page": INBOX_PAGE_SIZE})
            for part in INBOX_PARTS
        }
        found = api.gather(calls)
        rows = with_service_names(api, {"contents": [row for answer in found.values() for row in answer["contents"]]})
        parts = {part: [row for row in rows or [] if row["status"] == part] for part in INBOX_PARTS}
        parts["sent"].sort(key=lambda row: row.get("respond_by") or "")  # the nearest answer-by first
        counts = {part: answer["total_items"] for part, answer in found.items()}
        return view.render("agency/inbox.html", parts=parts, counts=counts)

    @agency_page("GET", "/agency/referrals/<referral_id>")
    def agency_referral(self, view: Page, api: ApiClient, referral_id: str) -> Response:
        """A referral, for its agency (HTML)"""
        referral = api.call(Call("referrals", "GET", f"/referrals/{referral_id}"))
        [named] = with_service_names(api, {"contents": [referral]}) or [referral]
        return view.render(
            "agency/referral.html",
            referral={"service_name": None, **named},
            decline_reasons=REFERRAL_DECLINE_REASONS,
            outcomes=REFERRAL_OUTCOMES,
        )

    @agency_page("POST", "/agency/referrals/<referral_id>/<move>")
    def agency_move(self, view: Page, api: ApiClient, referral_id: str, move: str) -> Response:
        """Accept, decline, start or complete a referral (HTML redirect)"""
        if move not in AGENCY_MOVES:
            return view.render("error.html", status=404, kind="not_found")
        body = _move_body(move, view.request.form)
        if body is None:
            return view.render("error.html", status=400, kind="bad_request")
        api.call(Call("referrals", "POST", f"/referrals/{referral_id}/{AGENCY_MOVES[move]}", json=body))
        return view.redirect(f"/agency/referrals/{referral_id}", flash=f"referral_{move}")

    @agency_page("GET", "/agency/report")
    def agency_report(self, view: Page, api: ApiClient) -> Response:
        """The agency's outcome report (HTML)"""
        report = api.call(Call("referrals", "GET", "/reports/outcomes", params={"group_by": "agency"}))
        return view.render("agency/report.html", rows=report["contents"], outcomes=REFERRAL_OUTCOMES)

    @agency_page("GET", "/agency/settings")
    def agency_settings(self, view: Page, api: ApiClient) -> Response:
        """The agency's webhook and AMQP settings, read-only, with how to use them (HTML)"""
        found = api.call(Call("referrals", "GET", "/agencies/me/integration"))
        return view.render("agency/settings.html", webhooks=found["webhooks"], amqp=found["amqp"])


def _move_body(move: str, form: Any) -> dict[str, Any] | None:
    """The API body of a move; None when a required choice is missing or unknown."""
    note = (form.get("note") or "").strip() or None
    if move == "decline":
        reason = form.get("reason")
        return {"reason": reason, "note": note} if reason in REFERRAL_DECLINE_REASONS else None
    if move == "complete":
        outcome = form.get("outcome")
        return {"outcome": outcome, "note": note} if outcome in REFERRAL_OUTCOMES else None
    return {"note": note} if move == "start" and note else {}
