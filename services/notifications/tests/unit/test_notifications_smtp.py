"""The SMTP transport against real SMTP servers: connection reuse, a relay that hangs up,
errors that must not spoil the next message, and headers in any language."""

import asyncio
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from beat_shared.testing import free_port
from notifications.channels.email import IDLE_SECONDS, Email, SmtpTransport, build_email
from notifications.settings import Settings

SENDER = "Policía de Riverton <no-reply@beat.local>"
LONG_URL = "http://localhost:8003/unsubscribe/" + "x" * 160


def email(number: int, subject: str = "Your concern has been acknowledged") -> Email:
    return Email(
        to=f"resident{number}@example.org",
        subject=subject,
        text=f"Hello {number}, señora.\n",
        html=f"<p>Hello {number}, señora.</p>",
        message_id=f"<m{number}@beat.local>",
        language="en",
        unsubscribe_url=LONG_URL,
        date=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )


def transport(port: int, monotonic: Any = None) -> SmtpTransport:
    settings = Settings.from_config(
        {
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(port),
            "NOTIFICATIONS_EMAIL_FROM": SENDER,
        }
    )
    return SmtpTransport(settings, monotonic) if monotonic else SmtpTransport(settings)


def test_one_connection_carries_the_emails_sent_one_after_another(smtp_sink):
    smtp = transport(smtp_sink.port)
    outcomes = [smtp.send(email(number)).status for number in range(3)]
    smtp.close()
    assert outcomes == ["delivered"] * 3
    assert {message["Message-ID"] for message in smtp_sink.mailbox()} == {f"<m{n}@beat.local>" for n in range(3)}
    assert smtp_sink.connections() == 1


def test_a_connection_is_kept_between_rounds_until_it_has_been_idle_too_long(smtp_sink):
    now = [1000.0]
    smtp = transport(smtp_sink.port, monotonic=lambda: now[0])
    smtp.send(email(1))
    now[0] += IDLE_SECONDS - 1
    smtp.close_stale()  # the end of a round: a connection used a moment ago stays open
    smtp.send(email(2))
    assert smtp_sink.connections() == 1
    now[0] += IDLE_SECONDS + 1
    smtp.close_stale()  # idle for too long: closed
    smtp.send(email(3))
    smtp.close()
    assert [message["Message-ID"] for message in smtp_sink.mailbox()] == [f"<m{n}@beat.local>" for n in (1, 2, 3)]
    assert smtp_sink.connections() == 2


def test_a_send_does_not_reuse_a_connection_idle_for_too_long(smtp_sink):
    now = [1000.0]
    smtp = transport(smtp_sink.port, monotonic=lambda: now[0])
    smtp.send(email(1))
    now[0] += IDLE_SECONDS + 1  # no round closed it meanwhile
    outcome = smtp.send(email(2))
    smtp.close()
    assert outcome.status == "delivered"
    assert smtp_sink.connections() == 2


def test_an_error_answer_closes_the_connection_and_the_next_email_goes_on_a_new_one(smtp_sink):
    smtp = transport(smtp_sink.port)
    smtp_sink.set_mode("550")
    refused = smtp.send(email(1))
    smtp_sink.set_mode("ok")
    delivered = smtp.send(email(2))
    smtp.close()
    assert (refused.status, refused.status_code) == ("permanent_failure", 550)
    assert delivered.status == "delivered"
    assert [message["Message-ID"] for message in smtp_sink.mailbox()] == ["<m2@beat.local>"]


class HangsUpAfterEachMessage:
    """A relay that closes the connection right after accepting a message (as relays with an
    idle timeout or a per-connection cap do)."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.peers: set[int] = set()
        self.hung_up = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(message_from_bytes(envelope.content)["Message-ID"])
        self.peers.add(session.peer[1])
        asyncio.get_running_loop().call_later(0.01, self._hang_up, server)
        return "250 OK"

    def _hang_up(self, server: Any) -> None:
        if server.transport is not None:  # None if the client said QUIT first
            server.transport.close()
        self.hung_up += 1


@pytest.fixture
def hanging_up_relay():
    handler = HangsUpAfterEachMessage()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_a_connection_the_relay_closed_is_replaced_without_losing_the_email(hanging_up_relay, kit):
    handler, port = hanging_up_relay
    smtp = transport(port)
    first = smtp.send(email(1))
    kit.wait_for(lambda: handler.hung_up == 1, message="the relay hung up")
    second = smtp.send(email(2))  # on the dead connection first, then on a new one
    smtp.close()
    assert (first.status, second.status) == ("delivered", "delivered")
    assert handler.received == ["<m1@beat.local>", "<m2@beat.local>"]
    assert len(handler.peers) == 2


def test_headers_are_encoded_for_any_language_and_never_folded_into_a_leading_space():
    subject = "Su inquietud ha sido atendida por la policía del barrio — señal de tránsito rota en la esquina"
    raw = build_email(email(1, subject), SENDER).as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed["From"] == SENDER
    assert parsed["List-Unsubscribe"] == f"<{LONG_URL}>"
    assert raw.isascii()  # 7-bit: encoded words in headers, quoted-printable bodies
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    assert all(len(word) <= 75 for word in raw.split() if word.startswith(b"=?"))  # RFC 2047
    assert parsed.get_body(("plain",)).get_content() == "Hello 1, señora.\n"
    assert parsed.get_body(("html",)).get_content() == "<p>Hello 1, señora.</p>"
