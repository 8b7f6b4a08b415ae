"""The `backend` of the test fixtures: a test on a database runs on SQLite and PostgreSQL, except
one marked `postgresql_only`, which runs on PostgreSQL alone, or `sqlite_only` (browser journeys), on SQLite alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def collected(*args: str) -> list[str]:
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [line for line in listing.stdout.splitlines() if "::" in line]


def test_a_test_on_a_database_runs_on_both_backends_unless_marked_postgresql_only():
    outbox = "shared/tests/test_outbox.py"
    ordinary = collected(outbox, "-k", "written_at_commit")
    assert sorted(test.rsplit("[", 1)[1] for test in ordinary) == ["postgresql]", "sqlite]"]
    leadership = collected(outbox, "-k", "gives_up_leadership")
    assert [test.rsplit("[", 1)[1] for test in leadership] == ["postgresql]"]


def test_a_browser_journey_marked_sqlite_only_runs_on_sqlite_alone():
    journeys = collected("services/web/tests/integration/test_web_browser.py")
    assert len(journeys) == 2 and all(test.endswith("[sqlite]") for test in journeys)
    over_http = collected("services/web/tests/integration/test_web_pages.py", "-k", "headers")
    assert {test.rsplit("[", 1)[1] for test in over_http} == {"postgresql]", "sqlite]"}
