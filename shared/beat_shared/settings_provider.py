"""A service's typed settings, read once when its container starts and given to every worker.

    settings = SettingsProvider(Settings)   # Settings.from_config(config): the service's settings.py

`from_config` reads each setting with `beat_shared.config.setting_from` (the container config,
then the environment, then the default) and may refuse a bad value by raising, which stops the
service at start-up rather than at its first request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

T = TypeVar("T", covariant=True)


class FromConfig(Protocol[T]):
    def from_config(self, config: Mapping[str, Any]) -> T: ...


class SettingsProvider(DependencyProvider, Generic[T]):
    """Injects `settings_class.from_config(container.config)`, built once in `setup`."""

    def __init__(self, settings_class: FromConfig[T]) -> None:
        self.settings_class = settings_class

    def setup(self) -> None:
        self.settings: T = self.settings_class.from_config(self.container.config)

    def get_dependency(self, worker_ctx: WorkerContext) -> T:
        return self.settings
