"""Which address a request counts against, behind trusted proxies or not."""

import pytest

from beat_shared.proxies import client_address, trusted_networks

INGRESS = trusted_networks("10.0.0.0/8, 192.168.1.7")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),  # no proxy
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer cannot claim another address
        ("10.1.2.3", None, "10.1.2.3"),  # the proxy itself (health checks)
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),  # through the ingress
        ("10.1.2.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own forged entry is ignored
        ("10.1.2.3", "198.51.100.1, 192.168.1.7", "198.51.100.1"),  # two trusted hops
        ("10.1.2.3", "10.9.9.9, 10.8.8.8", "10.9.9.9"),  # only proxies: the farthest one
        ("10.1.2.3", "not-an-address", "10.1.2.3"),  # garbage: stop at the last address trusted
        ("10.1.2.3", "198.51.100.1, junk", "10.1.2.3"),
        ("10.1.2.3", " , 2001:db8::1 ", "2001:db8::1"),
        ("10.1.2.3", "[2001:db8::2]", "2001:db8::2"),
        ("unix-socket", "198.51.100.1", "unix-socket"),
    ],
)
def test_client_address(peer, forwarded_for, expected):
    assert client_address(peer, forwarded_for, INGRESS) == expected


def test_nobody_is_trusted_by_default_and_bad_entries_are_named():
    assert trusted_networks("") == ()
    assert client_address("127.0.0.1", "198.51.100.1", trusted_networks("")) == "127.0.0.1"
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        trusted_networks("10.0.0.0/8, 10.0.0.300")
