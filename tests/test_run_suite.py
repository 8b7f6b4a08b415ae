"""The parallel test runner (`tests/run_suite.py`) runs every test exactly once and reports failures."""

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path

from beat_shared.testing import LANE_BLOCKS

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("beat_run_suite", ROOT / "tests" / "run_suite.py")
assert spec and spec.loader
run_suite = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up
spec.loader.exec_module(run_suite)


def collected(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def node_ids(process: subprocess.Popen[str]) -> list[str]:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-2000:]
    return [line for line in output.splitlines() if "::" in line]


def test_the_lanes_and_the_broker_restarts_together_collect_every_test_exactly_once():
    lanes = run_suite.lanes_in_parallel()
    alone = ["-m", run_suite.ALONE]
    processes = [collected(lane.args) for lane in lanes] + [collected(alone), collected([])]
    *lane_ids, alone_ids, everything = [node_ids(process) for process in processes]

    assert len(everything) > 500
    assert alone_ids, "no test is marked broker_restart any more"
    counts = Counter(node for ids in [*lane_ids, alone_ids] for node in ids)
    assert sorted(counts) == sorted(everything)
    assert [node for node, count in counts.items() if count > 1] == []
    assert all(lane_ids), "a lane collects nothing"


def test_the_suite_fails_when_any_lane_fails_and_is_empty_only_when_every_lane_is():
    assert run_suite.overall_status([0, 0, 0]) == 0
    assert run_suite.overall_status([0, 1, 0]) == 1
    assert run_suite.overall_status([5, 1]) == 1
    assert run_suite.overall_status([0, 5]) == 0
    assert run_suite.overall_status([5, 5]) == 5
    assert run_suite.overall_status([2, 1, 0]) == 2


def test_each_lane_listens_on_ports_of_its_own_block(tmp_path):
    """Lanes run together; a port two of them were given answered for the wrong service (a 404)."""
    assert len(run_suite.lanes_in_parallel()) <= LANE_BLOCKS
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import os\n"
        "from beat_shared.testing import PORTS_FROM, PORTS_PER_BLOCK, free_port\n"
        "def test_ports():\n"
        "    first = PORTS_FROM + 3 * PORTS_PER_BLOCK\n"
        "    assert os.environ['BEAT_TEST_PORT_BLOCK'] == '3'\n"
        "    assert all(first <= free_port() < first + PORTS_PER_BLOCK for _ in range(5))\n"
    )
    lane = run_suite.Lane("probe", ["-q", "-p", "no:cacheprovider", str(probe)], tmp_path / "probe.log")
    lane.start(port_block=3)
    assert lane.finish() == 0, lane.log.read_text()[-2000:]
