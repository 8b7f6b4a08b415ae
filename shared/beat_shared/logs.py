"""Structured logs: one JSON object per line (or text for a person), carrying the request or call
id, with the secrets that travel in URLs redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("beat_request_id", default=None)


REDACTED = "[redacted]"
# Bearer secrets that travel in URLs: a concern's receipt token, a survey token (query or fragment),
# an unsubscribe token, a subscriber's confirm or manage link (web's /alerts/…), an open-survey
# link's slug (in its path or as `open=`), any `token=` parameter,
# the code and state a sign-in's callback receives.
_SECRET_IN_PATH = re.compile(r"(/(?:receipts|unsubscribe|open|alerts/confirm|alerts/manage)/)[^/?#\s\"'<>]+")
_SECRET_IN_PARAMETER = re.compile(r"([?&#;](?:token|open)=)[^&#\s\"'<>]+", re.IGNORECASE)
_SECRET_IN_FRAGMENT = re.compile(r"(/(?:respond|follow)#)[^\s\"'<>]+")  # survey links, web's receipt links
# An OpenID Connect callback's whole query: the authorization code (and state) the provider sends back.
_SECRET_IN_CALLBACK = re.compile(r"(/sign-in/callback\?)[^\s\"'<>]+")


def redact_secrets(text: str) -> str:
    """`text` with every token that a URL can carry replaced by [redacted]; the one redaction
    applied to access-log paths and to every log line Beat writes."""
    for pattern in (_SECRET_IN_PATH, _SECRET_IN_PARAMETER, _SECRET_IN_FRAGMENT, _SECRET_IN_CALLBACK):
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_secrets(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for key in ("service", "event_id", "event_type", "queue"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = redact_secrets(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """One readable line per record, for a person at a terminal (`beat run`)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(super().format(record))


# Loggers whose DEBUG records carry message bodies: nameko's RPC client logs every reply, and
# replies such as concerns.reporter_contact hold names, emails and phones. They stay at INFO
# whatever BEAT_LOG_LEVEL says, so turning on DEBUG never writes contact details to the logs.
PAYLOAD_LOGGERS = ("nameko.rpc",)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
