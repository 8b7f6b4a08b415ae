"""Load Beat's RabbitMQ definitions (exchanges, queues, bindings, policies) into a virtual host.

    python import_definitions.py --api http://admin:PASSWORD@rabbitmq:15672 --vhost beat \
        --file definitions-production.json --grant beat

Idempotent: RabbitMQ merges imported definitions with what exists, so it is safe to run on every
release. `--grant USER` gives the services' own user full rights on the vhost (the user must
exist: the RabbitMQ Cluster Operator, the compose file or `rabbitmqctl add_user` creates it).

    python import_definitions.py --api ... --vhost beat agency --id agency-riverton-food-bank

renders the agency template (agency-template.json) for one agency and prints it: what the
referrals service's provisioning creates (user, own queue, binding, permissions). Standard
library only, so it runs in any Python 3.11, including Beat's images.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The same rule as the referrals service's provisioning (referrals/provisioning.py).
AGENCY_ID = re.compile(r"^agency-[a-z0-9][a-z0-9-]{1,56}$")


class Management:
    """The few calls of RabbitMQ's management HTTP API this script needs."""

    def __init__(self, api: str) -> None:
        parts = urllib.parse.urlsplit(api.rstrip("/"))
        netloc = (parts.hostname or "127.0.0.1") + (f":{parts.port}" if parts.port else "")
        self.base = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        user = urllib.parse.unquote(parts.username or "guest")
        password = urllib.parse.unquote(parts.password or "guest")
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}/api/{path}", data=data, method=method)
        request.add_header("Authorization", self.auth)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{method} /api/{path}: {error.code} {error.read().decode(errors='replace')}") from error
        return json.loads(raw) if raw else None


def for_vhost(definitions: dict[str, Any], vhost: str) -> dict[str, Any]:
    """The definitions with every object moved to `vhost`."""
    moved = json.loads(json.dumps(definitions))
    moved["vhosts"] = [{"name": vhost}]
    for section in ("exchanges", "queues", "bindings", "policies", "permissions"):
        for item in moved.get(section, []):
            item["vhost"] = vhost
    return moved


def load(api: str, vhost: str, definitions: dict[str, Any], grant: str | None = None) -> None:
    management = Management(api)
    quoted = urllib.parse.quote(vhost, safe="")
    management.call("PUT", f"vhosts/{quoted}", {})
    management.call("POST", "definitions", for_vhost(definitions, vhost))
    if grant:
        management.call(
            "PUT",
            f"permissions/{quoted}/{urllib.parse.quote(grant, safe='')}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )


def agency_definitions(agency_id: str, queue_type: str, vhost: str = "beat") -> dict[str, Any]:
    """The agency template filled in for one agency (its id must be a safe queue-name part)."""
    if not AGENCY_ID.match(agency_id):
        raise ValueError(f"agency id {agency_id!r} must match {AGENCY_ID.pattern}")
    if queue_type not in ("classic", "quorum"):
        raise ValueError("queue type must be classic or quorum")
    text = (HERE / "agency-template.json").read_text()
    text = text.replace("{{AGENCY_USER}}", agency_user(vhost, agency_id))
    text = text.replace("{{AGENCY_ID}}", agency_id).replace("{{QUEUE_TYPE}}", queue_type)
    return for_vhost(json.loads(text), vhost)


def agency_user(vhost: str, agency_id: str) -> str:
    """Users are broker-wide, so the name carries the vhost (as referrals/provisioning.py names it)."""
    return agency_id if vhost == "/" else f"{vhost}.{agency_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", required=True, help="management API URL with credentials")
    parser.add_argument("--vhost", default="beat")
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--file", default=str(HERE / "definitions.json"))
    parser.add_argument("--grant", help="user that gets full rights on the vhost (Beat's services)")
    agency = sub.add_parser("agency", help="print the definitions for one agency")
    agency.add_argument("--id", required=True)
    agency.add_argument("--queue-type", default="quorum", choices=["classic", "quorum"])
    args = parser.parse_args(argv)
    if args.command == "agency":
        print(json.dumps(agency_definitions(args.id, args.queue_type, args.vhost), indent=2))
        return 0
    load(args.api, args.vhost, json.loads(Path(args.file).read_text()), args.grant)
    print(f"loaded {Path(args.file).name} into vhost {args.vhost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
