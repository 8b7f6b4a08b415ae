"""Ports for the services under test: each process of the suite takes them from a block of its
own, and a web server never shares a port it did not get alone."""

import errno
import socket

import pytest

from beat_shared import testing
from beat_shared.testing import PORTS_FROM, PORTS_PER_BLOCK, free_port
from shared_sample import LedgerService


def listener(port: int, *, reuse_port: bool = False) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def test_ports_come_from_the_lanes_block_in_turn_and_skip_one_in_use(monkeypatch):
    monkeypatch.setattr(testing, "_next_ports", {})
    monkeypatch.setenv("BEAT_TEST_PORT_BLOCK", "5")
    first = PORTS_FROM + 5 * PORTS_PER_BLOCK
    port = free_port()
    assert first <= port < first + PORTS_PER_BLOCK
    with listener(port + 1):
        following = free_port()
    assert following != port + 1 and following > port
    monkeypatch.setenv("BEAT_TEST_PORT_BLOCK", "6")
    assert first + PORTS_PER_BLOCK <= free_port() < first + 2 * PORTS_PER_BLOCK


def test_the_ports_of_a_block_are_used_again_once_it_is_exhausted(monkeypatch):
    monkeypatch.setattr(testing, "_next_ports", {})
    monkeypatch.setenv("BEAT_TEST_PORT_BLOCK", "7")
    ports = [free_port() for _ in range(PORTS_PER_BLOCK + 1)]
    assert len(set(ports[:-1])) <= PORTS_PER_BLOCK and ports[-1] in ports[:-1]


def test_a_service_does_not_start_on_a_port_another_process_listens_on(container_factory, beat_config, ledger_db):
    """eventlet listens with SO_REUSEPORT on a fixed port unless told not to: a second service on
    the port would start and take half of the first one's requests."""
    config = beat_config("ledger", LEDGER_DATABASE_URL=ledger_db)
    port = int(config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
    with listener(port, reuse_port=True):
        container = container_factory(LedgerService, config)
        with pytest.raises(OSError) as refused:
            container.start()
    assert refused.value.errno == errno.EADDRINUSE


def test_a_killed_service_frees_its_port_for_the_service_that_restarts_on_it(container_factory, beat_config, ledger_db):
    """The crash tests kill a service and start it again in the same process, on the same port."""
    config = beat_config("ledger", LEDGER_DATABASE_URL=ledger_db)
    port = int(config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
    first = container_factory(LedgerService, config)
    first.start()
    first.kill()
    second = container_factory(LedgerService, config)
    second.start()
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # the restarted service answers on the port
    with pytest.raises(OSError) as refused:
        listener(port)
    assert refused.value.errno == errno.EADDRINUSE
