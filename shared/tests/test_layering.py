"""The import contracts of `make lint` (pyproject.toml's [tool.importlinter]) pass on the real tree,
and each one fails when a copy of the tree is given an import that breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = {
    "beat_shared": REPO / "shared" / "beat_shared",
    **{name: REPO / "services" / name / name for name in ("concerns", "referrals", "notifications", "surveys", "web")},
}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with root's pyproject.toml, importing the packages found under root first."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_real_tree_keeps_every_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "offending", "broken"),
    [
        (
            "beat_shared/registry_shortcut.py",
            "import concerns.service",
            "beat_shared (the platform library) imports no service",
        ),
        (
            "referrals/borrowed.py",
            "from concerns import models",
            "services do not import each other (they talk through events and RPC)",
        ),
        ("web/borrowed.py", "import surveys.queries", "web imports no service (it calls their public APIs)"),
        ("concerns/domain/stored.py", "import sqlalchemy", "domain/ is plain Python: no SQLAlchemy, no nameko"),
        ("surveys/domain/sent.py", "from nameko.rpc import rpc", "domain/ is plain Python: no SQLAlchemy, no nameko"),
        (
            "referrals/domain/stored.py",
            "from sqlalchemy.orm import Session",
            "domain/ is plain Python: no SQLAlchemy, no nameko",
        ),
        (
            "web/domain/served.py",
            "from nameko.web.handlers import http",
            "domain/ is plain Python: no SQLAlchemy, no nameko",
        ),
        (
            "notifications/domain/queued.py",
            "from notifications.models import Message",  # models import SQLAlchemy: indirectly impure
            "domain/ is plain Python: no SQLAlchemy, no nameko",
        ),
    ],
)
def test_a_deliberate_violation_fails_the_lint(tmp_path, module, offending, broken):
    """On the PYTHONPATH ahead of the editable installs, the copy is what lint-imports analyses."""
    for name, source in PACKAGES.items():
        shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint_imports(tmp_path).returncode == 0  # the copy alone is clean: the import below is what breaks it
    (tmp_path / module).write_text(f"{offending}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout, result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout  # it names the offending module
