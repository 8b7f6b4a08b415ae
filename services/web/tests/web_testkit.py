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
