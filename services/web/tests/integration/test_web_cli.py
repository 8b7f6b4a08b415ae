"""`beat serve web` and `beat run`: the pages start without a database; migrate and seed skip them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import requests

from beat_shared import cli
from beat_shared.config import SERVICE_NAMES
from beat_shared.testing import free_port, wait_for


def test_serve_web_starts_without_any_database(tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "WEB_HTTP_ADDRESS": f"127.0.0.1:{port}",
        # A database URL nobody can open: web must not try.
        "CONCERNS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "BEAT_LOG_FORMAT": "text",
    }
    child = subprocess.Popen([sys.executable, "-m", "beat_shared.cli", "serve", "web"], env=environment, cwd=tmp_path)
    try:

        def healthy() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["service"] == "web"
            except requests.RequestException:
                return False

        wait_for(healthy, timeout=30, message="beat serve web answering /healthz")
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)


def test_migrate_and_seed_leave_web_out():
    assert cli.selected([]) == SERVICE_NAMES and "web" not in SERVICE_NAMES
    assert cli.main(["migrate", "web"]) == 2  # "unknown service": it has no database
    assert "web" in cli.selected([], cli.RUNNABLE_SERVICES)


def test_ctrl_c_stops_the_pages_at_once_after_they_served_a_page(tmp_path):
    """web has no timers of its own, so nothing woke its hub to act on a signal: `beat run` waited
    for it, killed it after 30 s and said it had stopped unexpectedly."""
    port = free_port()
    environment = {**os.environ, "WEB_HTTP_ADDRESS": f"127.0.0.1:{port}", "BEAT_LOG_FORMAT": "text"}
    run = subprocess.Popen(
        [sys.executable, "-m", "beat_shared.cli", "run", "--services", "web"],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=60, message="web answering")
        with requests.Session() as browser:  # a tab left open keeps its connection
            browser.get(f"http://127.0.0.1:{port}/", timeout=30)  # a page (its services are down: a 503 page)
            run.send_signal(signal.SIGINT)
            output, _ = run.communicate(timeout=25)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, output.decode(errors="replace")[-2000:]
    assert b"stopped unexpectedly" not in output


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False
