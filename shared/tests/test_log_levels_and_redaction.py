"""Client errors are logged once, without a traceback; server errors are ERROR with one; the tokens
that travel in URLs never reach a log line (issue 21, point 6)."""

import io
import json
import logging

import pytest
from nameko.testing.services import entrypoint_hook

from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.entrypoints import rpc
from beat_shared.errors import NotFound
from beat_shared.logs import REDACTED, configure_logging, redact_secrets
from beat_shared.platform import PlatformEndpoints
from beat_shared.testing import wait_for

SECRET = "Zq8sEcReT-t0ken_value"


@pytest.mark.parametrize(
    "line",
    [
        f'127.0.0.1 - - [x] "GET /receipts/{SECRET} HTTP/1.1" 200 12 0.01',
        f'"GET /receipts/{SECRET}?lang=en HTTP/1.1" 404',
        f"POST /unsubscribe/{SECRET} HTTP/1.1",
        f'"GET /alerts/confirm/{SECRET} HTTP/1.1" 200',
        f"link http://127.0.0.1:8000/alerts/manage/{SECRET} in a mail",
        f"GET /open/{SECRET}/responses",
        f"GET /respond?token={SECRET}&lang=es",
        f"open link http://127.0.0.1:8004/respond?open={SECRET}",
        f"GET /anything?lang=es&TOKEN={SECRET}",
        f"survey link http://127.0.0.1:8004/respond#{SECRET} sent",
        f"receipt link http://127.0.0.1:8000/follow#c-1.{SECRET}",
        f'"GET /sign-in/callback?code={SECRET}&state=s-1 HTTP/1.1" 303',
        f'"GET /sign-in/callback?state=s-1&code={SECRET} HTTP/1.1" 303',
    ],
)
def test_tokens_in_urls_are_redacted(line):
    redacted = redact_secrets(line)
    assert SECRET not in redacted
    assert REDACTED in redacted


def test_paths_without_secrets_are_left_alone():
    line = '"GET /openapi.json HTTP/1.1" 200; GET /dashboard?beat=rv01; GET /concerns/42'
    assert redact_secrets(line) == line


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_both_log_formats_redact_messages_and_tracebacks(fmt):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure_logging("INFO", fmt)
        root.handlers[0].setStream(stream)
        logging.getLogger("beat.test").info("fetched /receipts/%s", SECRET)
        try:
            raise ValueError(f"cannot open /unsubscribe/{SECRET}")
        except ValueError:
            logging.getLogger("beat.test").exception("failed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    output = stream.getvalue()
    assert "fetched /receipts/" in output and "cannot open /unsubscribe/" in output
    assert SECRET not in output
    if fmt == "json":
        assert all(json.loads(line) for line in output.splitlines() if line.startswith("{"))


def _records(caplog, since: int) -> list[logging.LogRecord]:
    return caplog.records[since:]


def test_access_log_paths_are_redacted(ledger, web_session, caplog):
    caplog.set_level(logging.INFO)
    assert web_session.get(f"/receipts/{SECRET}?token={SECRET}").status_code == 404
    access = wait_for(
        lambda: [r for r in caplog.records if r.name == "nameko.web.server" and "GET /" in r.getMessage()]
    )
    assert "GET /receipts/[redacted]?token=[redacted]" in access[0].getMessage()
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_a_client_error_is_one_info_line_without_a_traceback(ledger, web_session, caplog):
    caplog.set_level(logging.INFO)
    officer = {"Authorization": f"Bearer {mint_token('officer', 'officer-1', env('BEAT_JWT_SECRET'))}"}
    answers = [
        web_session.post("/checked", json={"subject": "a", "sequence": -1}),  # 400 raised in the worker
        web_session.get("/entries/424242", headers=officer),  # 404 raised in the worker
        web_session.get("/entries/1"),  # 401 before any worker
        web_session.get("/no/such/route"),  # 404 from the router
    ]
    assert [answer.status_code for answer in answers] == [400, 404, 401, 404]
    wait_for(
        lambda: len([r for r in caplog.records if r.name == "nameko.web.server" and "HTTP/1.1" in r.getMessage()]) >= 4
    )
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [r for r in caplog.records if r.exc_info] == []
    for path in ("/checked", "/entries/424242", "/entries/1", "/no/such/route"):
        lines = [r for r in caplog.records if path + " " in r.getMessage()]
        assert len(lines) == 1 and lines[0].levelno == logging.INFO, (path, lines)


def test_a_server_error_is_error_with_a_traceback(ledger, web_session, caplog):
    caplog.set_level(logging.INFO)
    answer = web_session.post("/entries", json={"subject": "a", "sequence": 1, "fail_after_write": True})
    assert answer.status_code == 500
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert errors, "the server error was not logged at ERROR with its traceback"


class Lookup(PlatformEndpoints):
    """A service whose RPC is asked for something that is not there."""

    name = "lookup"

    @rpc
    def find(self, key: str) -> str:
        raise NotFound(f"no entry {key}")

    @rpc
    def explode(self) -> None:
        raise RuntimeError("a bug of ours")


def test_an_rpc_client_error_is_one_info_line_and_a_bug_stays_an_error(container_factory, beat_config, caplog):
    caplog.set_level(logging.INFO)
    container = container_factory(Lookup, beat_config("lookup"))
    container.start()
    with entrypoint_hook(container, "find") as find, pytest.raises(NotFound):
        find("k-1")
    lines = [r for r in caplog.records if r.name == "nameko.containers" and "k-1" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in lines] == [(logging.INFO, None)]
    with entrypoint_hook(container, "explode") as explode, pytest.raises(RuntimeError):
        explode()
    [bug] = [r for r in caplog.records if "a bug of ours" in r.getMessage()]
    assert bug.levelno == logging.ERROR and bug.exc_info


def test_a_bad_event_keeps_its_warning_or_error():
    """An event handler refusing an event (a 400-class ContractViolation) is a fault between
    services: the filter leaves nameko's record as it is."""
    from types import SimpleNamespace

    from beat_shared.errors import ContractViolation
    from beat_shared.http import ClientErrorsAreNotErrors

    worker_ctx = SimpleNamespace(entrypoint=object())  # neither an HTTP nor an RPC entrypoint
    record = logging.LogRecord(
        "nameko.containers",
        logging.ERROR,
        __file__,
        1,
        "error handling worker %s: %s",
        (worker_ctx, ContractViolation("bad event")),
        None,
    )
    assert ClientErrorsAreNotErrors().filter(record) is True
    assert record.levelno == logging.ERROR
