"""The development outbox page (`/dev/outbox`): what was sent, newest first, each item in full.

E-mail as it arrived at the development mail catcher (headers, text and HTML bodies); SMS and
webhook deliveries as notifications recorded them in its delivery log. Development only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from beat_shared.dev_mail import CaughtMail

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}details{border:1px solid #ccc;"
    "margin:.5rem 0;padding:.5rem}summary{cursor:pointer}pre{background:#f6f6f6;padding:.5rem;overflow:auto;"
    "white-space:pre-wrap}iframe{width:100%;height:30rem;border:1px solid #ccc}"
)


@dataclass(frozen=True)
class OutboxItem:
    at: datetime
    channel: str
    summary: str
    content: str  # HTML, already escaped


def mail_item(mail: CaughtMail) -> OutboxItem:
    headers = "\n".join(f"{name}: {value}" for name, value in mail.raw_headers)
    parts = [f"<h3>Headers</h3><pre>{escape(headers)}</pre>"]
    text = mail.body("plain")
    if text is not None:
        parts.append(f"<h3>Text</h3><pre>{escape(text)}</pre>")
    html_body = mail.body("html")
    if html_body is not None:  # shown as sent, sandboxed: no scripts, no requests to the page's origin
        parts.append(f'<h3>HTML</h3><iframe sandbox srcdoc="{escape(html_body, quote=True)}"></iframe>')
    summary = f"to {mail.message.get('To', '?')}: {mail.message.get('Subject', '(no subject)')}"
    return OutboxItem(datetime.fromtimestamp(mail.received_at, UTC), "email", summary, "".join(parts))


def delivery_item(delivery: dict[str, Any]) -> OutboxItem:
    summary = f"{delivery['template']} to {delivery['recipient_key']}: {delivery['status']}"
    content = f"<pre>{escape(json.dumps(delivery, indent=2, default=str))}</pre>"
    return OutboxItem(datetime.fromisoformat(delivery["created_at"]), delivery["channel"], summary, content)


def render_page(mails: Sequence[CaughtMail], deliveries: Sequence[dict[str, Any]]) -> str:
    items = sorted([*map(mail_item, mails), *map(delivery_item, deliveries)], key=lambda i: i.at, reverse=True)
    rows = "".join(
        f"<details><summary>{escape(item.at.isoformat(timespec='seconds'))} · <strong>{escape(item.channel)}</strong>"
        f" · {escape(item.summary)}</summary>{item.content}</details>"
        for item in items
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Beat development outbox</title><style>{STYLE}</style></head><body>"
        "<h1>Development outbox</h1><p>What Beat sent, newest first: e-mail as the development mail catcher "
        "received it, SMS and webhook deliveries as notifications recorded them. Open an item to read it in "
        "full. This page exists only when BEAT_ENVIRONMENT is development.</p>"
        + (rows or "<p>Nothing has been sent yet.</p>")
        + "</body></html>\n"
    )
