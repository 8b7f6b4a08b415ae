"""The fast subset of the reliability run: 150 concerns through every fault once.

It runs the same harness as `make reliability` (tests/reliability/run.py --fast) in its own
process (the sinks and the load generator need real threads and asyncio, not eventlet),
on a private RabbitMQ node and PostgreSQL cluster, and checks each scenario's tally. What
the scenarios do and check is in docs/reliability.md.
"""

import json
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).with_name("run.py")
SCENARIOS = [
    "rabbitmq-restart",
    "kill-concerns",
    "kill-referrals",
    "kill-notifications",
    "kill-surveys",
    "postgres-restart",
    "poison-message",
    "slow-consumer",
    "report-card",
]


def test_nothing_is_lost_or_duplicated_through_broker_service_and_database_failures(tmp_path):
    report = tmp_path / "reliability.json"
    completed = subprocess.run(
        [sys.executable, str(RUN), "--fast", "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(completed.stdout[-8000:], completed.stderr[-4000:])  # the table, shown when the test fails
    assert report.exists(), completed.stderr[-2000:]
    result = json.loads(report.read_text())
    assert result["failure"] is None, result["failure"]
    tallies = {tally["scenario"]: tally for tally in result["tallies"]}
    assert list(tallies) == SCENARIOS

    for name, tally in tallies.items():
        assert tally["problems"] == [], (name, tally["problems"])
        assert tally["stored"] == tally["submitted"] > 0, name
        assert tally["duplicates"] == 0, name
        if name == "report-card":
            continue
        assert tally["published"] == tally["events_expected"] > tally["submitted"], name
        assert tally["consumed"] == tally["consumed_expected"] > 0, name
        assert tally["delivered"] == tally["notifications_expected"] > 0, name
        assert tally["drain_seconds"] is not None, name
        # The poison scenario dead-letters on purpose: the malformed event for both handlers of
        # its routing key and the failing one for surveys; the others dead-letter nothing.
        assert tally["dead_lettered"] == (3 if name == "poison-message" else 0), name
    assert sum(t["submitted"] for n, t in tallies.items() if n != "report-card") == 150
    assert tallies["report-card"]["submitted"] == 150

    slow = result["figures"]["slow_consumer"]
    assert slow["backlog_messages"] > 0
    assert slow["rss_peak_while_draining_mib"] <= slow["rss_bound_mib"]
    assert completed.returncode == 0
