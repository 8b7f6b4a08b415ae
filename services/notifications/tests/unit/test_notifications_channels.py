"""SMS segments and keywords, webhook signing, outcome mapping, URL checks."""

import base64
import os
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from notifications.channels.sms import count_segments, keyword
from notifications.channels.webhooks import check_url, outcome_for, retry_after_seconds, sign, signature_header

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters cost two septets: 160
        ("€" * 81, "GSM-7", 2),
        ("ñ" * 160, "GSM-7", 1),  # in the basic set
        ("á" * 70, "UCS-2", 1),  # not in GSM-7
        ("á" * 71, "UCS-2", 2),
        ("á" * 134, "UCS-2", 2),
        ("á" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # outside the BMP: two units each
        ("😀" * 36, "UCS-2", 2),
        ("", "GSM-7", 1),
    ],
)
def test_segments(body, encoding, segments):
    counted = count_segments(body)
    assert (counted.encoding, counted.segments) == (encoding, segments)


def test_keywords():
    assert keyword("STOP") == keyword(" stop. ") == keyword("Parar") == "stop"
    assert keyword("start") == "start"
    assert keyword("please stop sending") is None


def test_signature_matches_the_reference_library_for_each_secret():
    secrets = ["whsec_" + base64.b64encode(os.urandom(24)).decode() for _ in range(2)]
    body = b'{"a":1}'
    header = signature_header(secrets, "msg_1", int(NOW.timestamp()), body)
    for secret, part in zip(secrets, header.split(" "), strict=True):
        assert part == Webhook(secret).sign("msg_1", NOW, body.decode())
    assert sign(secrets[0], "msg_1", int(NOW.timestamp()), body) == header.split(" ")[0]


@pytest.mark.parametrize(
    ("status", "outcome", "throttle", "disable"),
    [
        (200, "delivered", False, False),
        (204, "delivered", False, False),
        (301, "temporary_failure", False, False),
        (400, "temporary_failure", False, False),
        (410, "permanent_failure", False, True),
        (429, "temporary_failure", True, False),
        (500, "temporary_failure", False, False),
        (502, "temporary_failure", True, False),
        (504, "temporary_failure", True, False),
    ],
)
def test_outcomes(status, outcome, throttle, disable):
    result = outcome_for(status, {"Retry-After": "30"}, NOW)
    assert (result.status, result.throttle, result.disable_endpoint) == (outcome, throttle, disable)
    if throttle:
        assert result.retry_after == 30


def test_retry_after_as_date():
    assert retry_after_seconds({"Retry-After": "Mon, 05 Jan 2026 09:02:00 GMT"}, NOW) == 120
    assert retry_after_seconds({"Retry-After": "soon"}, NOW) is None
    assert retry_after_seconds({}, NOW) is None


def test_url_checks():
    assert check_url("http://93.184.215.14/x", require_https=True, allow_private=False) == [
        "webhook URLs must use https"
    ]
    for private in ("https://127.0.0.1/x", "https://10.0.0.1/x", "https://169.254.169.254/x", "https://[::1]/x"):
        assert check_url(private, require_https=True, allow_private=False), private
    assert check_url("https://127.0.0.1/x", require_https=True, allow_private=True) == []
    assert check_url("ftp://example.org/x", require_https=False, allow_private=True)
    assert check_url("https://user:pw@93.184.215.14/x", require_https=True, allow_private=False)


def test_errors_are_stored_without_addresses():
    from notifications.dispatcher import redact

    text = redact("recipient refused: 550 5.1.1 <ana.b@example.org>: unknown; call +1 555 555 0100 or 5555550100")
    assert "ana.b" not in text and "555" not in text
    assert redact("SMTP 451 4.3.0 Try again later") == "SMTP 451 4.3.0 Try again later"
