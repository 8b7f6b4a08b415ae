"""The services installed beside the platform library, found through their entry points.

beat_shared depends on no service: each service declares in its own pyproject.toml what the `beat`
command and the document generator need of it, and this module finds those declarations with
`importlib.metadata`, so a service is loaded only when installed and only when asked for.

    [project.entry-points."beat.services"]      name = "<package>.service:<ServiceClass>"
    [project.entry-points."beat.migrations"]    name = "<package>.migrations"   (its Alembic folder)
    [project.entry-points."beat.demo"]          name = "<package>.demo:seed"    (seed(session) -> summary)
    [project.entry-points."beat.agency"]        name = "<module>:main"          (`beat agency ...`; one service)
    [project.entry-points."beat.settings"]      name = "<package>.settings:SETTINGS"  (its settings table)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

SERVICES = "beat.services"
MIGRATIONS = "beat.migrations"
DEMO = "beat.demo"
AGENCY = "beat.agency"
SETTINGS = "beat.settings"


class NotRegistered(LookupError):
    """No installed package declares this entry point (the service is not installed, or has none)."""


def registered(group: str) -> dict[str, EntryPoint]:
    """Name → entry point of every installed package's declaration in `group`."""
    return {entry.name: entry for entry in entry_points(group=group)}


def _load(group: str, name: str) -> Any:
    entry = registered(group).get(name)
    if entry is None:
        raise NotRegistered(f"no installed package declares {name!r} in the entry-point group {group!r}")
    return entry.load()


def service_class(name: str) -> type:
    """The nameko service class a service declares in `beat.services`. Raises NotRegistered."""
    return _load(SERVICES, name)


def service_classes(names: Iterable[str]) -> list[type]:
    return [service_class(name) for name in names]


def demo_seed(name: str) -> Callable[[Any], str]:
    """The service's `seed(session) -> summary` from `beat.demo`. Raises NotRegistered."""
    return _load(DEMO, name)


def declared_settings() -> dict[str, Any]:
    """Service name → the table of settings it declares in `beat.settings` (beat_shared.config.table)."""
    return {name: entry.load() for name, entry in sorted(registered(SETTINGS).items())}


def migrations_directory(name: str) -> Path:
    """The Alembic folder a service declares in `beat.migrations`. Raises NotRegistered."""
    # An Alembic folder is a namespace package (no __init__.py): its one path is the folder.
    return Path(next(iter(_load(MIGRATIONS, name).__path__)))


def agency_command() -> Callable[[list[str]], int]:
    """The one `main(argv) -> status` declared in `beat.agency`. Raises NotRegistered."""
    declared = list(registered(AGENCY).values())
    if len(declared) != 1:
        raise NotRegistered(f"expected one package to declare {AGENCY!r}, found {len(declared)}")
    return declared[0].load()
