"""Container HEALTHCHECK: exit 0 when this service's /healthz answers 200, 1 otherwise.

Standard library only (the image has no curl). The service is named by BEAT_SERVICE and
listens on its <SERVICE>_HTTP_ADDRESS setting (defaults as in beat_shared.config): the check calls
that address, or the loopback one when the service listens on every address (0.0.0.0, ::, none).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"concerns": 8001, "referrals": 8002, "notifications": 8003, "surveys": 8004, "web": 8000}
EVERY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]", "::": "[::1]"}


def healthz_url(environ: dict[str, str]) -> str:
    service = environ["BEAT_SERVICE"]
    address = environ.get(f"{service.upper()}_HTTP_ADDRESS") or f"0.0.0.0:{DEFAULT_PORTS[service]}"
    host, _, port = address.rpartition(":")
    host = EVERY_ADDRESS.get(host, host)
    if ":" in host and not host.startswith("["):  # a bare IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    try:
        with urllib.request.urlopen(healthz_url(dict(os.environ)), timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except (OSError, urllib.error.URLError, KeyError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
