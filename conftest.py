"""Root test configuration: green threads first, then shared fixtures."""

import os
import warnings

# Third-party hypothesis plugins (trio's, brought in by selenium) cannot import under eventlet.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # must run before anything imports sockets or threads (see STACK.md)

pytest_plugins = ["beat_shared.testing"]
