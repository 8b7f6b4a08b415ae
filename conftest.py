"""Root test configuration: green threads first, then shared fixtures."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # must run before anything imports sockets or threads (see STACK.md)

pytest_plugins = ["beat_shared.testing"]
