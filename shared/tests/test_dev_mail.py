"""`beat run`'s development mail catcher and its terminal-friendly logs (issue 21, points 4 and 5)."""

import os
import smtplib
import subprocess
import sys
from email.message import EmailMessage

import pytest

from beat_shared import cli
from beat_shared.dev_mail import RefusedInProduction, caught_mail, start_catcher
from beat_shared.testing import free_port


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    for name in ("BEAT_ENVIRONMENT", "BEAT_LOG_FORMAT", "BEAT_DEV_MAIL_PORT", "NOTIFICATIONS_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BEAT_DEV_MAIL_DIR", str(tmp_path / "mail"))
    return monkeypatch


def send(port: int, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "beat@example.org", "dana@example.org", subject
    message.set_content("plain words")
    message.add_alternative("<p>html words</p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_in_development_notifications_mail_goes_to_the_catcher(clean_environment, tmp_path):
    port = free_port()
    clean_environment.setenv("BEAT_DEV_MAIL_PORT", str(port))
    child_env, catcher = cli.development_conveniences(["concerns", "notifications"])
    try:
        assert catcher is not None
        assert (child_env["NOTIFICATIONS_SMTP_HOST"], child_env["NOTIFICATIONS_SMTP_PORT"]) == ("127.0.0.1", str(port))
        send(port, "first")
        send(port, "second")
        mails = caught_mail(tmp_path / "mail")
        assert [mail.message["Subject"] for mail in mails] == ["second", "first"]  # newest first
        assert mails[0].body("plain").strip() == "plain words"
        assert mails[0].body("html").strip() == "<p>html words</p>"
        assert ("To", "dana@example.org") in mails[0].raw_headers
        banner = cli.mail_banner(catcher)
        assert f"smtp://127.0.0.1:{port}" in banner[0] and "/dev/outbox" in banner[0]
    finally:
        if catcher is not None:
            catcher.terminate()
            catcher.wait(timeout=10)


def test_a_mail_server_the_person_chose_is_kept(clean_environment):
    clean_environment.setenv("NOTIFICATIONS_SMTP_HOST", "mail.example.org")
    child_env, catcher = cli.development_conveniences(["notifications"])
    assert catcher is None
    assert child_env["NOTIFICATIONS_SMTP_HOST"] == "mail.example.org"
    assert cli.mail_banner(catcher) == []


def test_production_starts_no_catcher_and_refuses_one_asked_for(clean_environment):
    clean_environment.setenv("BEAT_ENVIRONMENT", "production")
    child_env, catcher = cli.development_conveniences(["notifications"])
    assert catcher is None
    assert child_env == dict(os.environ)  # notifications keeps the SMTP settings it was given
    with pytest.raises(RefusedInProduction):
        start_catcher(free_port(), cli.Path(os.environ["BEAT_DEV_MAIL_DIR"]))
    clean_environment.setenv("BEAT_DEV_MAIL_PORT", "2525")
    with pytest.raises(cli.CommandFailed, match="production"):
        cli.development_conveniences(["notifications"])


def test_beat_run_refuses_the_catcher_in_production_before_starting_anything(tmp_path):
    environ = {**os.environ, "BEAT_ENVIRONMENT": "production", "BEAT_DEV_MAIL_PORT": "2525"}
    done = subprocess.run(
        [sys.executable, "-m", "beat_shared.cli", "run"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "development only" in done.stderr and "BEAT_ENVIRONMENT=production" in done.stderr
    assert not (tmp_path / "var").exists()  # no database was touched


def test_a_terminal_gets_text_logs_unless_a_format_was_chosen(clean_environment):
    clean_environment.setattr(sys.stdout, "isatty", lambda: True)
    assert cli.development_conveniences(["concerns"])[0]["BEAT_LOG_FORMAT"] == "text"
    clean_environment.setenv("BEAT_LOG_FORMAT", "json")
    assert cli.development_conveniences(["concerns"])[0]["BEAT_LOG_FORMAT"] == "json"
    clean_environment.delenv("BEAT_LOG_FORMAT")
    clean_environment.setattr(sys.stdout, "isatty", lambda: False)  # a container, a pipe, a file
    assert "BEAT_LOG_FORMAT" not in cli.development_conveniences(["concerns"])[0]
