"""`beat run` as a person runs it, and what its logs hold (issue 21, points 4, 5 and 6).

The four services run as `beat run` starts them (one process each, the development mail catcher
beside them), with JSON logs captured to a file. A resident's concern goes through to the
post-contact survey; every kind of token Beat issues (receipt, survey, unsubscribe, open link) is
then used in a URL, and some requests are wrong on purpose (404, 400, 401). Afterwards no token
appears anywhere in the run's output, and no client error left a traceback or an ERROR line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from beat_shared.auth import mint_token
from beat_shared.config import SERVICE_NAMES, env
from beat_shared.dev_mail import caught_mail
from beat_shared.logs import redact_secrets
from beat_shared.testing import BANNER_END, BeatRun, beat_running, isolated_addresses, wait_for

RESIDENT_EMAIL = "dana.resident@example.org"
IN_RV01 = {"lat": 43.045, "long": -108.405}


def bearer(role: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(role, subject, env('BEAT_JWT_SECRET'))}"}


@pytest.fixture
def beat_run(tmp_path: Path, rabbit_config: dict[str, Any], database: Callable[[str], str]) -> Iterator[BeatRun]:
    urls, isolation = isolated_addresses(SERVICE_NAMES)
    environ = {
        **os.environ,
        **isolation,
        "AMQP_URI": rabbit_config["AMQP_URI"],
        "BEAT_LOG_FORMAT": "json",
        "BEAT_DEV_MAIL_DIR": str(tmp_path / "mail"),
        "BEAT_OUTBOX_POLL_SECONDS": "0.2",
        "BEAT_RETRY_DELAYS": "0.2,0.5",
        "NOTIFICATIONS_DISPATCH_SECONDS": "0.2",
        "NOTIFICATIONS_PORTAL_URL": urls["concerns"],
    }
    environ.pop("NOTIFICATIONS_SMTP_HOST", None)  # the catcher is what this run is about
    for service in SERVICE_NAMES:
        environ[f"{service.upper()}_DATABASE_URL"] = database(service)
    with beat_running(tmp_path, environ, urls) as run:
        yield run


def mails(run: BeatRun) -> list[Any]:
    return [mail.message for mail in caught_mail(run.workdir / "mail") if RESIDENT_EMAIL in mail.message["To"]]


def text_of(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def transition(run: BeatRun, concern_id: str, status: str) -> None:
    officer = bearer("officer", "officer-rv01")
    concern = requests.get(run.url("concerns", f"/concerns/{concern_id}"), headers=officer, timeout=10).json()
    answer = requests.post(
        run.url("concerns", f"/concerns/{concern_id}/transitions"),
        json={"status": status, "version": concern["version"], "public_note": f"Now {status}."},
        headers=officer,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def issue_every_token(run: BeatRun) -> dict[str, str]:
    """Walk a resident's concern to its survey and open an open-link wave; use each token in a URL."""
    submitted = requests.post(
        run.url("concerns", "/concerns"),
        json={
            "category": "noise",
            "description": "Loud music from the old mill car park every night after midnight.",
            "location": IN_RV01,
            "contact": {"name": "Dana", "email": RESIDENT_EMAIL, "preference": "email"},
        },
        timeout=10,
    )
    assert submitted.status_code == 201, submitted.text
    concern_id, receipt = submitted.json()["concern"]["id"], submitted.json()["receipt_token"]
    assert requests.get(run.url("concerns", f"/receipts/{receipt}"), timeout=10).status_code == 200

    transition(run, concern_id, "acknowledged")
    [acknowledgement] = wait_for(lambda: mails(run), timeout=60, message="acknowledgement e-mail at the catcher")
    unsubscribe = re.search(r"/unsubscribe/([^>\s]+)>", acknowledgement["List-Unsubscribe"]).group(1)
    assert requests.get(run.url("notifications", f"/unsubscribe/{unsubscribe}"), timeout=10).status_code == 200

    transition(run, concern_id, "resolved")

    def invitation() -> list[Any]:
        return [m for m in mails(run) if "/respond#" in text_of(m)]

    [invited] = wait_for(invitation, timeout=60, message="post-contact survey invitation at the catcher")
    survey_token = re.search(r"/respond#(\S+)", text_of(invited)).group(1)
    answered = requests.post(run.url("surveys", "/invitations/survey"), json={"token": survey_token}, timeout=10)
    assert answered.status_code == 200, answered.text
    assert requests.get(run.url("surveys", f"/respond?token={survey_token}"), timeout=10).status_code == 200

    now = datetime.now(UTC)
    wave = requests.post(
        run.url("surveys", "/waves"),
        json={
            "survey_code": "standard",
            "name": "Log scan wave",
            "period": f"{now.year}-Q{(now.month - 1) // 3 + 1}",
            "beat_codes": ["RV-01"],
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=30)).isoformat(),
            "open_link": {"enabled": True},
        },
        headers=bearer("analyst", "analyst-1"),
        timeout=10,
    )
    assert wave.status_code == 201, wave.text
    slug = wave.json()["open_link_url"].split("open=")[1]
    assert requests.get(run.url("surveys", f"/open/{slug}?language=en"), timeout=10).status_code == 200
    assert requests.get(run.url("surveys", f"/respond?open={slug}"), timeout=10).status_code == 200
    return {"receipt": receipt, "unsubscribe": unsubscribe, "survey": survey_token, "open link": slug}


def make_client_errors(run: BeatRun) -> dict[str, tuple[str, int]]:
    """Requests that are wrong on purpose, each answered with its 4xx: request id -> (path, status)."""
    officer = bearer("officer", "officer-rv01")
    wrong = {
        "deliberate-404-worker": ("GET", "/concerns/no-such-concern", officer, None),
        "deliberate-404-receipt": ("GET", "/receipts/not-a-real-token", {}, None),
        "deliberate-400": ("POST", "/concerns", {}, {"category": "noise"}),
        "deliberate-401": ("GET", "/me/concerns", {}, None),
    }
    made = {}
    for request_id, (method, path, headers, body) in wrong.items():
        answer = requests.request(
            method, run.url("concerns", path), headers={**headers, "X-Request-ID": request_id}, json=body, timeout=10
        )
        made[request_id] = (path, answer.status_code)
    return made


def test_a_run_is_readable_and_its_logs_hold_no_token(beat_run: BeatRun):
    # The banner is the last thing printed once the services are up, and every URL in it answers.
    at_start = beat_run.text()
    assert at_start.rstrip().endswith(BANNER_END), at_start[-2000:]
    banner = at_start[at_start.rindex("Beat is running:") :]
    for url in re.findall(r"http://127\.0\.0\.1:\d+/\S*", banner):
        assert requests.get(url, timeout=10).status_code == 200, url
    assert "mail catcher" in banner and "/dev/outbox" in banner
    for service, base in beat_run.urls.items():
        index = requests.get(base + "/", timeout=10)
        assert index.json()["service"] == service
        assert requests.get(base + "/", headers={"Accept": "text/html"}, timeout=10).text.startswith("<!doctype html>")

    tokens = issue_every_token(beat_run)
    errors = make_client_errors(beat_run)
    assert [status for _, status in errors.values()] == [404, 404, 400, 401]

    outbox = requests.get(beat_run.url("notifications", "/dev/outbox"), timeout=10).text
    assert all(m["Subject"] in outbox for m in mails(beat_run))  # the mail a person can read

    def logged(text: str) -> bool:
        return any(text in json.loads(line)["message"] for line in beat_run.text().splitlines() if line.startswith("{"))

    wait_for(lambda: logged('"GET /me/concerns HTTP/1.1" 401'), timeout=15, message="the last access-log line")
    lines = beat_run.text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert {line for line in lines if line.strip() and not line.startswith("{")} <= set(banner.splitlines())

    leaks = {kind: [line for line in lines if token in line] for kind, token in tokens.items()}
    assert {kind: found for kind, found in leaks.items() if found} == {}
    assert logged("GET /receipts/[redacted] HTTP/1.1")
    assert logged("GET /respond?open=[redacted] HTTP/1.1")

    for request_id, (path, status) in errors.items():
        about_it = [
            e for e in entries if e["request_id"] == request_id or f" {redact_secrets(path)} HTTP" in e["message"]
        ]
        answered = [e for e in about_it if f' {redact_secrets(path)} HTTP/1.1" {status}' in e["message"]]
        assert len(answered) == 1 and answered[0]["level"] == "INFO", (path, answered)
        assert [e for e in about_it if e["level"] in ("WARNING", "ERROR") or "exception" in e] == [], path
