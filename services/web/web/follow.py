"""Following a concern with its receipt link (status, history, withdraw), a concern as the public sees
it and "me too"; and the receipts and supporter tokens a browser's session keeps.

An endpoint group of the web service (mixed into `WebService`). A resident without an account is
known to concerns by the receipt token of their concern (`X-Receipt-Token`), which this browser keeps
in its session once the receipt link was posted here (the token never travels in a URL).
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from web import categories
from web.api import RECEIPT_HEADER, ApiClient, Call
from web.domain.receipts import parse_receipt
from web.page import Page, page_group

KEPT_TOKENS = 20  # receipts and supporter tokens a session remembers (the cookie stays small)

follow_page = page_group("pages")


class FollowPages:
    """Following and supporting concerns (needs the service's `apis` and `pages` dependencies)."""

    @follow_page("GET", "/follow")
    def follow_start(self, view: Page, api: ApiClient) -> Response:
        """Follow a concern: paste the receipt link (HTML)"""
        return view.render("follow_start.html")

    @follow_page("POST", "/follow")
    def follow_open(self, view: Page, api: ApiClient) -> Response:
        """Follow a concern: open the receipt (HTML redirect)"""
        receipt = parse_receipt(view.request.form.get("receipt", ""))
        if receipt is None:
            return view.render("follow_start.html", status=400, error="receipt_unreadable")
        remember(view, "receipts", receipt.concern_id, receipt.token)
        return view.redirect(f"/follow/{receipt.concern_id}")

    @follow_page("GET", "/follow/<concern_id>")
    def follow(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """Follow a concern (HTML)"""
        headers = receipt_headers(view, concern_id)
        if headers is None:
            return view.redirect("/follow")
        request = Call("concerns", "GET", f"/concerns/{concern_id}", headers=headers)
        return view.render("follow.html", concern=categories.concern(api, view.language, request))

    @follow_page("POST", "/follow/<concern_id>/withdraw")
    def withdraw(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """Withdraw my concern"""
        headers = receipt_headers(view, concern_id)
        if headers is None:
            return view.redirect("/follow")
        api.call(Call("concerns", "POST", f"/concerns/{concern_id}/withdraw", json={}, headers=headers))
        return view.redirect(f"/follow/{concern_id}", flash="withdrawn")

    @follow_page("GET", "/concerns/<concern_id>")
    def public_concern(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """A concern as the public sees it (HTML)"""
        concern = categories.concern(api, view.language, Call("concerns", "GET", f"/public/concerns/{concern_id}"))
        return view.render("concern.html", concern=concern)

    @follow_page("POST", "/concerns/<concern_id>/support")
    def support(self, view: Page, api: ApiClient, concern_id: str) -> Response:
        """ "Me too" (HTML redirect)

        Counted once per person: the supporter token concerns gave this browser the first time
        (or, on one's own concern, its receipt) goes with every later "me too"."""
        token = (view.session.get("supporter_tokens") or {}).get("any") or next(
            iter((view.session.get("receipts") or {}).values()), None
        )
        headers = {RECEIPT_HEADER: token} if token else {}
        answer = api.call(Call("concerns", "POST", f"/concerns/{concern_id}/support", headers=headers))
        if answer.get("supporter_token"):
            remember(view, "supporter_tokens", "any", answer["supporter_token"])
        return view.redirect(f"/concerns/{concern_id}", flash="supported" if answer["counted"] else "already_supported")


def receipt_token(view: Page, concern_id: str) -> str | None:
    """The receipt token this browser holds for the concern (kept when it posted the receipt link)."""
    return (view.session.get("receipts") or {}).get(concern_id)


def receipt_headers(view: Page, concern_id: str) -> dict[str, str] | None:
    """The concern's receipt token as the header concerns reads; None when this browser holds none."""
    token = receipt_token(view, concern_id)
    return None if token is None else {RECEIPT_HEADER: token}


def remember(view: Page, bucket: str, key: str, token: str) -> None:
    """Keep a token in the session under `bucket`, newest last, at most KEPT_TOKENS of them."""
    kept = dict(view.session.get(bucket) or {})
    kept.pop(key, None)
    kept[key] = token
    view.session.set(bucket, dict(list(kept.items())[-KEPT_TOKENS:]))
