"""Agency subscriptions over AMQP: each agency gets its own RabbitMQ user and durable queue.

Topology (declared through the RabbitMQ management HTTP API):

    referrals.events (topic) --beat.referral.#, beat.consent.#--> beat.agency-feed (headers)
    beat.agency-feed --{x-match: all-with-x, x-agency-id: <agency>}--> agency.<agency> (durable queue)

The queue is declared with the deployment's queue type (`BEAT_QUEUE_TYPE`): in production that is
quorum, which the broker policy `beat-agency-queues` (dead-lettering, delivery limit, reject-publish)
requires; a classic queue would match its pattern but ignore its quorum-only keys.

RabbitMQ users are broker-wide while everything else is per vhost, so the agency's user name carries
the deployment's vhost (`beat.agency-x` on vhost `beat`): two Beats on one broker, each on its own
vhost, never overwrite each other's agency users. On the default vhost "/" the name is the agency id.

The agency's user may read its own queue and nothing else (configure "^$", write "^$",
read "^agency\\.<agency>$"), so the broker itself enforces isolation: it cannot read
another agency's queue, declare or bind anything, or publish to our exchanges.

`beat agency provision <agency>` calls `main(argv)` below.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from beat_shared.amqp import queue_arguments
from beat_shared.config import env

EVENTS_EXCHANGE = "referrals.events"
FEED_EXCHANGE = "beat.agency-feed"
FEED_ROUTING_KEYS = ("beat.referral.#", "beat.consent.#")
AGENCY_ID = re.compile(r"^agency-[a-z0-9][a-z0-9-]{1,56}$")
TIMEOUT_SECONDS = 10


class ProvisioningFailed(Exception):
    """The management API refused a step; the message says which and why."""


@dataclass(frozen=True)
class AgencyCredentials:
    agency_id: str
    username: str
    password: str
    vhost: str
    queue: str
    amqp_uri: str


def queue_name(agency_id: str) -> str:
    return f"agency.{agency_id}"


def username_for(vhost: str, agency_id: str) -> str:
    """The agency's broker-wide user name, namespaced by the deployment's vhost."""
    return agency_id if vhost == "/" else f"{vhost}.{agency_id}"


class ManagementApi:
    """The few calls of the RabbitMQ management HTTP API that provisioning needs."""

    def __init__(self, rabbit_api_uri: str) -> None:
        parts = urlsplit(rabbit_api_uri)
        self.auth = (parts.username or "guest", parts.password or "guest")
        netloc = parts.hostname or "127.0.0.1"
        if parts.port:
            netloc += f":{parts.port}"
        self.base = urlunsplit((parts.scheme or "http", netloc, parts.path.rstrip("/"), "", ""))

    def call(self, method: str, path: str, body: dict | None = None, ok_missing: bool = False) -> requests.Response:
        response = requests.request(
            method, f"{self.base}/api/{path}", json=body, auth=self.auth, timeout=TIMEOUT_SECONDS
        )
        if response.status_code == 404 and ok_missing:
            return response
        if response.status_code >= 400:
            raise ProvisioningFailed(f"{method} /api/{path} answered {response.status_code}: {response.text[:300]}")
        return response


def _q(value: str) -> str:
    return quote(value, safe="")


def ensure_feed(api: ManagementApi, vhost: str) -> None:
    """The headers exchange every agency queue hangs from, fed from referrals.events."""
    v = _q(vhost)
    api.call("PUT", f"exchanges/{v}/{_q(EVENTS_EXCHANGE)}", {"type": "topic", "durable": True})
    api.call("PUT", f"exchanges/{v}/{_q(FEED_EXCHANGE)}", {"type": "headers", "durable": True})
    existing = {
        binding["routing_key"]
        for binding in api.call("GET", f"bindings/{v}/e/{_q(EVENTS_EXCHANGE)}/e/{_q(FEED_EXCHANGE)}").json()
    }
    for routing_key in FEED_ROUTING_KEYS:
        if routing_key not in existing:
            api.call(
                "POST", f"bindings/{v}/e/{_q(EVENTS_EXCHANGE)}/e/{_q(FEED_EXCHANGE)}", {"routing_key": routing_key}
            )


def provision_agency(
    rabbit_api_uri: str,
    vhost: str,
    agency_id: str,
    amqp_host: str = "127.0.0.1",
    amqp_port: int = 5672,
    queue_type: str = "classic",
    amqp_scheme: str = "amqp",
) -> AgencyCredentials:
    """Create (or re-key) the agency's user, queue, binding and permissions; returns its credentials.

    Running it again for the same agency gives the user a new password (the old one stops working).
    """
    if not AGENCY_ID.match(agency_id):
        raise ProvisioningFailed(f"{agency_id!r} is not an agency id (agency-<slug>)")
    try:
        arguments = queue_arguments(queue_type)
    except ValueError as error:
        raise ProvisioningFailed(str(error)) from error
    api = ManagementApi(rabbit_api_uri)
    v, queue, username = _q(vhost), queue_name(agency_id), username_for(vhost, agency_id)
    ensure_feed(api, vhost)
    api.call("PUT", f"queues/{v}/{_q(queue)}", {"durable": True, "auto_delete": False, "arguments": arguments})
    bindings = api.call("GET", f"bindings/{v}/e/{_q(FEED_EXCHANGE)}/q/{_q(queue)}").json()
    if not any(binding.get("arguments", {}).get("x-agency-id") == agency_id for binding in bindings):
        api.call(
            "POST",
            f"bindings/{v}/e/{_q(FEED_EXCHANGE)}/q/{_q(queue)}",
            # Plain "all" ignores headers starting with "x-" (so it would match every agency's
            # message); "all-with-x" (RabbitMQ 3.10+) compares them too.
            {"routing_key": "", "arguments": {"x-match": "all-with-x", "x-agency-id": agency_id}},
        )
    password = secrets.token_urlsafe(24)
    api.call("PUT", f"users/{_q(username)}", {"password": password, "tags": ""})
    api.call(
        "PUT",
        f"permissions/{v}/{_q(username)}",
        {"configure": "^$", "write": "^$", "read": f"^{re.escape(queue)}$"},
    )
    amqp_uri = f"{amqp_scheme}://{_q(username)}:{_q(password)}@{amqp_host}:{amqp_port}/{_q(vhost)}"
    return AgencyCredentials(agency_id, username, password, vhost, queue, amqp_uri)


def deprovision_agency(rabbit_api_uri: str, vhost: str, agency_id: str, delete_queue: bool = True) -> None:
    """Remove the agency's user (and its queue): its access ends at once."""
    api = ManagementApi(rabbit_api_uri)
    api.call("DELETE", f"users/{_q(username_for(vhost, agency_id))}", ok_missing=True)
    if delete_queue:
        api.call("DELETE", f"queues/{_q(vhost)}/{_q(queue_name(agency_id))}", ok_missing=True)


def feed_names(amqp_uri: str, agency_id: str) -> dict[str, str]:
    """The names an agency's AMQP feed has on this deployment's broker (whether or not it is provisioned
    yet): its vhost, its user and its queue. The password is only ever printed by `provision_agency`."""
    vhost = _vhost_of(amqp_uri)
    return {"vhost": vhost, "username": username_for(vhost, agency_id), "queue": queue_name(agency_id)}


def _vhost_of(amqp_uri: str) -> str:
    path = urlsplit(amqp_uri).path
    return "/" if path in ("", "/") else path[1:].replace("%2F", "/").replace("%2f", "/")


def main(argv: Sequence[str] | None = None) -> int:
    """`beat agency provision <agency-id> [--vhost V] [--amqp-host H] [--tls] [--remove]`.

    RABBIT_API_URI, AMQP_URI and BEAT_QUEUE_TYPE come from the environment.
    """
    parser = argparse.ArgumentParser(prog="beat agency provision", description=__doc__.splitlines()[0])
    parser.add_argument("agency_id", help="e.g. agency-food-bank")
    parser.add_argument("--vhost", help="default: the vhost of AMQP_URI")
    parser.add_argument("--amqp-host", help="host name agencies connect to (default: the host of AMQP_URI)")
    parser.add_argument(
        "--tls",
        action="store_true",
        help="agencies connect over TLS (amqps, port 5671): the production broker's agency port",
    )
    parser.add_argument("--remove", action="store_true", help="delete the agency's user and queue instead")
    args = parser.parse_args(argv)
    rabbit_api_uri = env("RABBIT_API_URI")
    amqp_uri = env("AMQP_URI")
    vhost = args.vhost or _vhost_of(amqp_uri)
    try:
        if args.remove:
            deprovision_agency(rabbit_api_uri, vhost, args.agency_id)
            print(f"removed {args.agency_id}'s RabbitMQ user and queue on vhost {vhost}")
            return 0
        parts = urlsplit(amqp_uri)
        credentials = provision_agency(
            rabbit_api_uri,
            vhost,
            args.agency_id,
            args.amqp_host or parts.hostname or "127.0.0.1",
            5671 if args.tls else parts.port or 5672,
            queue_type=env("BEAT_QUEUE_TYPE"),
            amqp_scheme="amqps" if args.tls else "amqp",
        )
    except (ProvisioningFailed, requests.RequestException) as error:
        print(f"beat: provisioning {args.agency_id} failed: {error}", file=sys.stderr)
        return 2
    print(f"agency:   {credentials.agency_id}")
    print(f"user:     {credentials.username}")
    print(f"password: {credentials.password}   (shown once; run again to issue a new one)")
    print(f"vhost:    {credentials.vhost}")
    print(f"queue:    {credentials.queue}   (consume only: no declare, no bind, no publish)")
    print(f"uri:      {credentials.amqp_uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
