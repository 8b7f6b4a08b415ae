"""The README documents every setting with its real default, and the two commands."""

from pathlib import Path

from beat_shared.config import SETTINGS

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table_with_its_default():
    for setting in SETTINGS.values():
        row = f"| `{setting.name}` | `{setting.default or '(empty)'}` |"
        assert row in README, f"README configuration table lacks or misstates {setting.name}"


def test_the_two_commands_are_documented_and_ci_runs_the_test_command():
    assert "make run" in README and "make test" in README
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci
