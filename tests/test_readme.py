"""The README documents every setting with its real default, every `beat` command, and the two commands."""

import argparse
import os
import re
import stat
import subprocess
from pathlib import Path

from beat_shared.cli import build_parser
from beat_shared.config import SETTINGS

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
NO_TESTS_COLLECTED = 5  # pytest's exit status when it collected nothing


def test_every_setting_is_in_the_configuration_table_with_its_default():
    for setting in SETTINGS.values():
        row = f"| `{setting.name}` | `{setting.default or '(empty)'}` |"
        assert row in README, f"README configuration table lacks or misstates {setting.name}"


def test_the_two_commands_are_documented_and_ci_runs_the_test_command():
    assert "make run" in README and "make test" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci


def beat_subcommands() -> set[str]:
    """The subcommands `beat` really has, from its argparse parser."""
    groups = [action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction)]
    return {name for group in groups for name in group.choices}


def test_every_beat_command_is_in_the_command_table():
    table = README.split("## The `beat` command", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `beat ([a-z-]+)", table, flags=re.MULTILINE))
    assert beat_subcommands() - documented == set(), "README's `beat` command table lacks these commands"
    assert documented - beat_subcommands() == set(), "README's `beat` command table lists commands beat lacks"


def test_make_test_fails_when_pytest_collects_no_tests():
    """A filter that matches nothing must not pass for a green run. The prerequisites (install,
    broker, PostgreSQL, lint) are taken as done (`-o`): only the test step is under test."""
    prerequisites = ["-o", ".venv/.installed", "-o", "broker", "-o", "postgres", "-o", "test-tools", "-o", "lint"]
    pytest_args = "PYTEST_ARGS=tests/test_readme.py -k no_test_is_called_this"
    done = subprocess.run(
        ["make", *prerequisites, "test", pytest_args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "deselected" in done.stdout, done.stdout + done.stderr
    assert done.returncode != 0


def test_ci_fails_when_make_test_collects_no_tests(tmp_path):
    """CI's status is make's, also for pytest's 5. `make` here stands in for a run that collected
    nothing; the management API is pointed nowhere so that CI's vhost cleanup leaves the vhosts
    of tests running beside this one alone."""
    make = tmp_path / "make"
    make.write_text(f"#!/bin/sh\necho 'no tests ran'\nexit {NO_TESTS_COLLECTED}\n")
    make.chmod(make.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "RABBIT_API_URI": "http://127.0.0.1:1"}
    done = subprocess.run([str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=300)
    assert "no tests ran" in done.stdout, done.stdout + done.stderr
    assert done.returncode == NO_TESTS_COLLECTED
