"""Referring someone from a concern: search the agency directory, record consent, send; and the
referrals made for a concern, shown on its page with their lifecycle and outcome.

An endpoint group of the web service (mixed into `WebService`), like `web/staff.py`. The request
goes to concerns (`POST /referral-requests`, which records the consent and announces it); referrals
drafts a referral to the best-matching service, and the officer sends the draft from the concern's
page (`POST /referrals/{id}/send`). Both services decide who may do this.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from beat_shared.contracts.catalogue import URGENCIES
from web import categories
from web.api import ApiClient, ApiError, Call
from web.domain import queue
from web.domain.referral_form import (
    CLIENT_LANGUAGES,
    CONSENT_METHODS,
    ReferralForm,
    api_errors,
    read_referral_form,
    request_body,
)
from web.page import Page, page, page_http
from web.staff import signed_in

NEED_TERMS = 100  # the need categories' taxonomy terms fit in one page
MATCHES_SHOWN = 10


class ReferralConsole:
    """Officers' referral pages (needs the service's `apis` and `pages` dependencies)."""

    @page_http(
        "GET",
        "/staff/concerns/<concern_id>/refer",
        auth="none",
        summary="Refer someone from a concern: search the directory, record consent (HTML)",
        tags=["staff pages"],
    )
    @page
    @signed_in
    def refer_page(self, view: Page, api: ApiClient, concern_id: str) -> Response:
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
        return self._refer_page(view, api, concern, ReferralForm(typed))

    @page_http(
        "POST",
        "/staff/concerns/<concern_id>/refer",
        auth="none",
        summary="Refer someone from a concern: send the request (HTML redirect)",
        tags=["staff pages"],
    )
    @page
    @signed_in
    def refer(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        referral = read_referral_form(view.request.form)
        body = None if referral.errors else request_body(concern_id, referral, view.settings.timezone)
        if body is not None:
            try:
                api.call(Call("concerns", "POST", "/referral-requests", json=body))
                return view.redirect(f"/staff/concerns/{concern_id}", flash="referral_requested")
            except ApiError as error:
                if error.status != 400:
                    raise
                referral.errors.update(api_errors(error.details) or {"need": "invalid"})
        concern = categories.concern(api, view.language, Call("concerns", "GET", f"/concerns/{concern_id}"))
        return self._refer_page(view, api, concern, referral, status=400)

    @page_http(
        "POST",
        "/staff/referrals/<referral_id>/send",
        auth="none",
        summary="Send a drafted referral to its agency (HTML redirect)",
        tags=["staff pages"],
    )
    @page
    @signed_in
    def send_referral(self, view: Page, api: ApiClient, referral_id: str) -> Response:
        sent = api.call(Call("referrals", "POST", f"/referrals/{referral_id}/send"))
        if not sent.get("concern_id"):
            return view.redirect("/staff/queue", flash="referral_sent")
        return view.redirect(f"/staff/concerns/{sent['concern_id']}", flash="referral_sent")

    def _refer_page(
        self, view: Page, api: ApiClient, concern: dict[str, Any], referral: ReferralForm, status: int = 200
    ) -> Response:
        need = view.request.args.get("need") or referral.values.get("need") or ""
        language = view.request.args.get("language") or ""
        calls = {"needs": Call("referrals", "GET", "/taxonomy_terms", params={"per_page": NEED_TERMS})}
        if need:
            calls["matches"] = Call("referrals", "GET", "/match", params=_match_params(concern, need, language))
        found = api.gather_outcomes(calls)
        if isinstance(found["needs"], ApiError):
            raise found["needs"]
        matches = found.get("matches")
        return view.render(
            "staff/refer.html",
            status=status,
            concern=concern,
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


def _match_params(concern: dict[str, Any], need: str, language: str) -> dict[str, Any]:
    """Near the concern's location when it has one, else in its beat."""
    params: dict[str, Any] = {"need_category": need, "limit": MATCHES_SHOWN}
    location = concern.get("location") or {}
    if location.get("lat") is not None:
        params |= {"latitude": location["lat"], "longitude": location["long"]}
    elif concern.get("beat_code"):
        params["beat_code"] = concern["beat_code"]
    if language:
        params["language"] = language
    return params
