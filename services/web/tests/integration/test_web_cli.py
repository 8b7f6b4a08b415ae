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
