"""Every page that answers with an error summary puts the focus on it as it loads (WEB.md: a refused
form names what to correct first), with scripts and without: the summary is focusable (tabindex -1)
and has `autofocus`, which the browser honours without any script."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
SUMMARY = re.compile(r'<div class="error-summary"[^>]*>')


def summaries() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(TEMPLATES)), tag)
        for path in sorted(TEMPLATES.rglob("*.html"))
        for tag in SUMMARY.findall(path.read_text())
    ]


def test_every_error_summary_takes_the_focus_as_the_page_loads():
    found = summaries()
    assert len(found) >= 15, found  # the forms of residents, staff, supervisors and agencies
    unfocused = [(name, tag) for name, tag in found if 'tabindex="-1"' not in tag or " autofocus" not in tag]
    assert not unfocused, unfocused
