"""Email over SMTP (smtplib): multipart text + HTML, a stable Message-ID, List-Unsubscribe."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

from notifications.channels import Outcome
from notifications.settings import Settings

# Relays commonly cap messages per connection; stay well below the usual 100.
MESSAGES_PER_CONNECTION = 50
# An idle connection is kept this long for the next round. RFC 5321 asks relays to wait at least
# five minutes before dropping an idle client; one that drops it sooner costs a reconnect, not an email.
IDLE_SECONDS = 30
MAX_IDLE_CONNECTIONS = 10  # as many as a round's concurrent senders

# No folding by the generator (it would put a long List-Unsubscribe URL on a line of its own,
# which some parsers read with a leading space); encoded subjects come folded already.
UNFOLDED = compat32.clone(max_line_length=0)
UTF8_QUOTED_PRINTABLE = Charset("utf-8")
UTF8_QUOTED_PRINTABLE.body_encoding = QP  # readable in a raw mail log, unlike base64


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


def _header_text(value: str, name: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words of at most 75 characters."""
    return value if value.isascii() else Header(value, "utf-8", header_name=name).encode()


def build_email(email: Email, sender: str) -> Message:
    """The MIME message; the same headers on every attempt (same Message-ID).

    Built with the `email.mime` classes (the compat32 policy): a quarter of the CPU of
    `EmailMessage`, whose default policy parses every header it is given. Addresses are
    ASCII (checked before), so only the sender's name and the subject may need encoding.
    """
    message = MIMEMultipart("alternative", policy=UNFOLDED)
    message["From"] = formataddr(parseaddr(sender), "utf-8")
    message["To"] = email.to
    message["Subject"] = _header_text(email.subject, "Subject")
    message["Date"] = format_datetime(email.date)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    if email.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058 one-click
    message["Content-Language"] = email.language
    message.attach(MIMEText(email.text, "plain", UTF8_QUOTED_PRINTABLE))
    message.attach(MIMEText(email.html, "html", UTF8_QUOTED_PRINTABLE))
    return message


@dataclass
class _IdleConnection:
    smtp: smtplib.SMTP
    sent: int  # messages sent on it so far
    since: float  # monotonic time it went idle


class SmtpTransport:
    """Sends over SMTP, keeping connections open between sends and between dispatcher rounds.

    A connection serves one send at a time: concurrent sends each take their own, so a
    round with ten senders opens at most ten. Reuse saves the connect, greeting, EHLO,
    STARTTLS, login and QUIT of every message after the first. `close_stale()` (every round)
    closes connections idle for longer than IDLE_SECONDS; `close()` closes them all.
    """

    def __init__(self, settings: Settings, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.monotonic = monotonic
        self._idle: list[_IdleConnection] = []  # the most recently used last

    def send(self, email: Email) -> Outcome:
        """Hand the message to the SMTP relay. 4xx answers and network trouble are
        temporary; 5xx answers are permanent (the relay will never take it)."""
        message = build_email(email, self.settings.email_from)
        reused = bool(self._idle)
        try:
            try:
                self._send_once(message, email.to)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The relay closed an idle connection of ours: nothing was accepted, try a new one.
                self._send_once(message, email.to, fresh=True)
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

    def _send_once(self, message: Message, to: str, fresh: bool = False) -> None:
        idle = None if fresh else self._take_idle()
        smtp, sent = (idle.smtp, idle.sent) if idle else (self._connect(), 0)
        try:
            smtp.send_message(message, to_addrs=[to])
        except BaseException:
            _quit(smtp)  # after any error the session's state is unknown: never reuse it
            raise
        if sent + 1 < MESSAGES_PER_CONNECTION and len(self._idle) < MAX_IDLE_CONNECTIONS:
            self._idle.append(_IdleConnection(smtp, sent + 1, self.monotonic()))
        else:
            _quit(smtp)

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
        try:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
        except BaseException:
            _quit(smtp)
            raise
        return smtp

    def _take_idle(self) -> _IdleConnection | None:
        """The most recently used idle connection, if it is not stale. Stale ones are closed
        without a QUIT: a relay that went silent on them would hold this send until the timeout."""
        cutoff = self.monotonic() - IDLE_SECONDS
        while self._idle:
            idle = self._idle.pop()
            if idle.since >= cutoff:
                return idle
            idle.smtp.close()
        return None

    def close_stale(self) -> None:
        """Close the connections idle for longer than IDLE_SECONDS (the oldest come first)."""
        cutoff = self.monotonic() - IDLE_SECONDS
        while self._idle and self._idle[0].since < cutoff:
            _quit(self._idle.pop(0).smtp)

    def close(self) -> None:
        while self._idle:
            _quit(self._idle.pop().smtp)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply))[:300]


def _by_code(code: int, error: str) -> Outcome:
    if 500 <= code < 600:
        return Outcome.permanent(error, code)
    return Outcome.temporary(error, code)
