"""Each service README's feature-to-file map names files that exist, and names every module.

A map is the README section `## Feature-to-file map`: a table whose second column names the
files (in backticks, relative to the service's folder, e.g. `referrals/commands.py` or
`referrals/hsds/`). Every service has one: a README without it fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SERVICES = sorted(path.parent.name for path in (ROOT / "services").glob("*/README.md"))
HEADING = "## Feature-to-file map"


def feature_map(readme: str) -> list[tuple[str, list[str]]] | None:
    """The map's rows as (feature, named files), or None when the README has no map."""
    if HEADING not in readme:
        return None
    section = readme.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|") or set(cells[0]) <= {"-", ":", " "}:
            continue
        rows.append((cells[0], re.findall(r"`([^`]+)`", cells[1])))
    return rows[1:]  # the header row


def modules(service: str) -> set[str]:
    """The service package's modules as a map names them (no `__init__.py`, no migrations)."""
    package = ROOT / "services" / service / service
    return {
        str(path.relative_to(package.parent))
        for path in package.rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.relative_to(package).parts
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_file_a_map_names_exists_and_every_module_is_named(service):
    rows = feature_map((ROOT / "services" / service / "README.md").read_text())
    assert rows, f"services/{service}/README.md has no '{HEADING}' table"
    named = {name for _, names in rows for name in names}
    assert all(names for _, names in rows), "every feature names at least one file"
    missing = sorted(name for name in named if not (ROOT / "services" / service / name).exists())
    assert not missing, f"services/{service}/README.md maps features to files that do not exist: {missing}"
    folders = {name for name in named if name.endswith("/")}
    unnamed = sorted(m for m in modules(service) if m not in named and not any(m.startswith(f) for f in folders))
    assert not unnamed, f"services/{service}/README.md's map does not name: {unnamed}"


def test_a_map_is_read_from_its_table_and_a_readme_without_one_has_none():
    readme = f"# x\n\n{HEADING}\n\n| feature | files |\n| --- | --- |\n| drafts | `x/commands.py`, `x/gone.py` |\n"
    assert feature_map(readme) == [("drafts", ["x/commands.py", "x/gone.py"])]
    assert feature_map("# x\n\n## API\n") is None
