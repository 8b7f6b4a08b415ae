"""A test that hangs fails at pyproject's pytest timeout instead of holding its lane forever."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HANGING = """
import eventlet
eventlet.monkey_patch()  # as the root conftest does: the services run as green threads

import pytest


@pytest.mark.timeout(2)
def test_waits_for_what_never_comes():
    eventlet.event.Event().wait()
"""


def test_the_suite_has_a_timeout_and_a_method_that_works_with_green_threads():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert 0 < options["timeout"] <= 1800 and options["timeout_method"] == "thread"


def test_a_hanging_test_ends_its_pytest_with_a_failure(tmp_path: Path):
    (tmp_path / "test_hanging.py").write_text(HANGING)
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "timeout_method=thread", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode != 0
    assert "Timeout" in ran.stdout + ran.stderr
