"""Email over SMTP (smtplib): multipart text + HTML, a stable Message-ID, List-Unsubscribe."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from notifications.channels import Outcome
from notifications.settings import Settings


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    language: str
    unsubscribe_url: str | None
    date: datetime


def build_email(email: Email, sender: str) -> EmailMessage:
    """The MIME message; identical bytes-wise headers on every attempt (same Message-ID)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.date)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    if email.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058 one-click
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    message["Content-Language"] = email.language  # after: making the multipart moves Content-* headers
    return message


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, email: Email) -> Outcome:
        """Hand the message to the SMTP relay. 4xx answers and network trouble are
        temporary; 5xx answers are permanent (the relay will never take it)."""
        settings = self.settings
        message = build_email(email, settings.email_from)
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(message, to_addrs=[email.to])
        except smtplib.SMTPRecipientsRefused as refused:
            code, reply = next(iter(refused.recipients.values()))
            return _by_code(code, f"recipient refused: {code} {_text(reply)}")
        except smtplib.SMTPAuthenticationError as error:  # our configuration, not the message
            return Outcome.temporary(f"SMTP authentication failed: {error.smtp_code}", error.smtp_code)
        except smtplib.SMTPResponseException as error:
            return _by_code(error.smtp_code, f"SMTP {error.smtp_code} {_text(error.smtp_error)}")
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            return Outcome.temporary(f"SMTP relay unreachable: {type(error).__name__}: {error}")
        return Outcome.delivered(250)


def _text(reply: bytes | str) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply))[:300]


def _by_code(code: int, error: str) -> Outcome:
    if 500 <= code < 600:
        return Outcome.permanent(error, code)
    return Outcome.temporary(error, code)
