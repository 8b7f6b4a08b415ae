"""SMS through a configurable HTTP gateway adapter, with GSM-7 / UCS-2 segment counting.

The adapter speaks a small JSON protocol most gateways can be fronted with:
`POST <gateway url>` `{"to", "from", "body", "reference"}` with a bearer token and
`Idempotency-Key: <reference>`; 2xx means accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import requests

from notifications.channels import Outcome
from notifications.channels.webhooks import retry_after_seconds
from notifications.settings import Settings

# GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR", "BAJA", "ALTO"}
START_WORDS = {"START", "UNSTOP", "YES", "ALTA"}


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def count_segments(body: str) -> SegmentCount:
    """How many SMS parts a body needs: 160/153 septets in GSM-7, else 70/67 UCS-2 units."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in body)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(body.encode("utf-16-le")) // 2  # characters outside the BMP take two units
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / multi)
    return SegmentCount(encoding, units, max(segments, 1))


def keyword(text: str) -> str | None:
    """ "stop" or "start" for an inbound SMS that is an opt-out or opt-in keyword."""
    word = text.strip().upper().rstrip(".!")
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None


class SmsGateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Kept-alive connections for the round's texts: a broadcast sends thousands, and a new
        # connection each (what `requests.post` does) cost the gateway and us a handshake each.
        self._http = requests.Session()

    def close(self) -> None:
        """Close the kept-alive connections (at the end of a dispatcher round)."""
        self._http.close()

    def send(self, to: str, body: str, reference: str) -> Outcome:
        settings = self.settings
        if not settings.sms_gateway_url:
            return Outcome.permanent("no SMS gateway is configured")
        headers = {"Idempotency-Key": reference, "Content-Type": "application/json"}
        if settings.sms_gateway_token:
            headers["Authorization"] = f"Bearer {settings.sms_gateway_token}"
        payload = {"to": to, "from": settings.sms_sender, "body": body, "reference": reference}
        try:
            response = self._http.post(
                settings.sms_gateway_url, json=payload, headers=headers, timeout=15, allow_redirects=False
            )
        except requests.RequestException as error:
            return Outcome.temporary(f"SMS gateway unreachable: {type(error).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome.delivered(status)
        if status == 429 or status >= 500:
            return Outcome.temporary(
                f"SMS gateway answered {status}", status, retry_after=retry_after_seconds(response.headers)
            )
        if status in (400, 422):
            return Outcome.permanent(f"SMS gateway refused the message ({status})", status)
        return Outcome.temporary(f"SMS gateway answered {status}", status)
