"""The client's address behind trusted reverse proxies (the Kubernetes ingress).

Behind an ingress every request comes from the ingress controller's pod, so rate limits
and the open-link device limit would count the whole city as one client. The proxy tells
the client's address in X-Forwarded-For, which anyone can also send: it is believed only
when the request comes from a network listed in BEAT_TRUSTED_PROXIES, and then only up to
the first address (from the right) that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(setting: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.168.1.7` -> networks; raises ValueError naming a bad entry."""
    networks = []
    for entry in (part.strip() for part in setting.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"BEAT_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Iterable[Network]) -> bool:
    return any(address in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, networks: tuple[Network, ...]) -> str:
    """The address to count a request against: the peer, or what trusted proxies say of it."""
    current = _address(peer)
    if current is None or not forwarded_for or not _trusted(current, networks):
        return peer
    chain = [part for part in forwarded_for.split(",") if part.strip()]
    for hop in reversed(chain):
        address = _address(hop)
        if address is None:  # garbage in the header: stop at the last address we could trust
            break
        current = address
        if not _trusted(address, networks):
            break
    return str(current)
