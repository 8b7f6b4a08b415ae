"""Helpers shared by the web service's tests: a browser's form posts, done as a browser does them."""

from __future__ import annotations

import re

import requests

# Inside beat RV-02 of the demo boundaries.
RV02 = {"lat": "43.045", "long": "-108.380"}


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def voice(browser: requests.Session, base: str, **fields) -> requests.Response:
    """Fill the noise form as a browser would (its hidden fields included) and send it."""
    form = browser.get(base + "/voice/noise", timeout=10).text
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    data = {**hidden, "description": "Loud music at night", **RV02, "send": "1", **fields}
    return browser.post(base + "/voice/noise", data=data, allow_redirects=False, timeout=10)


def open_receipt(browser: requests.Session, base: str) -> str:
    """The receipt page's link, posted to the follow form as a script would; returns the concern id."""
    link = re.search(r'id="receipt-link"[^>]*value="([^"]+)"', browser.get(base + "/voice/sent", timeout=10).text)[1]
    page = browser.get(base + "/follow", timeout=10).text
    opened = browser.post(
        base + "/follow", data={"csrf_token": csrf(page), "receipt": link}, allow_redirects=False, timeout=10
    )
    assert opened.status_code == 303
    return opened.headers["Location"].rsplit("/", 1)[1]


def staff_headers(role: str = "supervisor", subject: str = "supervisor-1") -> dict[str, str]:
    from beat_shared.auth import mint_token
    from beat_shared.config import env

    return {"Authorization": f"Bearer {mint_token(role, subject, env('BEAT_JWT_SECRET'))}"}


def schedule_meeting(concerns_url: str, beat: str = "RV-02") -> dict:
    """A community meeting next week, scheduled by the supervisor through the concerns API."""
    from datetime import UTC, datetime, timedelta

    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    body = {
        "kind": "community_meeting",
        "title": "Downtown beat meeting",
        "venue": "Riverton Public Library",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
    }
    answer = requests.post(f"{concerns_url}/beats/{beat}/meetings", json=body, headers=staff_headers(), timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def sign_in(browser: requests.Session, base: str, subject: str) -> requests.Response:
    """Development sign-in as one of the demo people, as the sign-in form does it."""
    page = browser.get(base + "/sign-in", timeout=10).text
    return browser.post(base + "/sign-in", data={"csrf_token": csrf(page), "subject": subject}, timeout=10)


def acknowledged_concern(base: str, officer: requests.Session) -> str:
    resident = requests.Session()
    assert voice(resident, base, confirmed="yes", name="Rosa Díaz", email="rosa@example.org").status_code == 303
    concern_id = open_receipt(resident, base)
    page = officer.get(f"{base}/staff/concerns/{concern_id}", timeout=10).text
    data = {"csrf_token": csrf(page), "version": "1", "status": "acknowledged"}
    assert officer.post(f"{base}/staff/concerns/{concern_id}/step", data=data, timeout=10).ok
    return concern_id


def drafted(officer: requests.Session, base: str, concern_id: str) -> str | None:
    """The concern's page once referrals has drafted the referral (it offers to send it), else None."""
    page = officer.get(f"{base}/staff/concerns/{concern_id}", timeout=10).text
    return page if "Send to the agency" in page else None


CONSENT = {
    "need": "food",
    "urgency": "soon",
    "name": "Rosa Díaz",
    "email": "rosa@example.org",
    "client_language": "es",
    "given_by": "Rosa Díaz",
    "given_at": "2026-01-05T10:30",
    "method": "verbal",
    "scope": "Share my name and e-mail with a food bank",
}


def sent_referral(base: str, officer: requests.Session) -> tuple[str, str]:
    """An officer (signed in) refers a resident's concern with consent and sends the draft:
    (concern id, referral id). Needs the `partners` stack (referrals drafts it asynchronously)."""
    from beat_shared.testing import wait_for

    concern_id = acknowledged_concern(base, officer)
    form = officer.get(f"{base}/staff/concerns/{concern_id}/refer", timeout=10).text
    data = {"csrf_token": csrf(form), **CONSENT}
    asked = officer.post(f"{base}/staff/concerns/{concern_id}/refer", data=data, timeout=10)
    assert asked.status_code == 200, asked.text
    page = wait_for(lambda: drafted(officer, base, concern_id), message="the draft on the concern's page")
    [referral_id] = re.findall(r'action="/staff/referrals/([0-9a-f-]{36})/send"', page)
    delivered = officer.post(f"{base}/staff/referrals/{referral_id}/send", data={"csrf_token": csrf(page)}, timeout=10)
    assert delivered.status_code == 200 and "Sent, waiting for the agency" in delivered.text
    return concern_id, referral_id
