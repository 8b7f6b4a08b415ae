"""An RPC whose reply cannot be sent (the broker went away) must not kill the service."""

import pytest
from nameko.exceptions import RpcTimeout
from nameko.rpc import Responder
from nameko.standalone.rpc import ServiceRpcProxy

from beat_shared.entrypoints import rpc


class EchoService:
    name = "echo"

    @rpc
    def echo(self, word: str) -> str:
        return word


def test_a_reply_lost_to_a_connection_reset_leaves_the_service_running(container_factory, beat_config, monkeypatch):
    config = beat_config("echo")
    container = container_factory(EchoService, config)
    container.start()

    def reset(self, result, exc_info):
        raise ConnectionResetError(104, "Connection reset by peer")

    with monkeypatch.context() as patched:
        patched.setattr(Responder, "send_response", reset)
        with ServiceRpcProxy("echo", config, timeout=2) as echo, pytest.raises(RpcTimeout):
            echo.echo("lost")  # the caller times out; the service lives on
    with ServiceRpcProxy("echo", config, timeout=10) as echo:
        assert echo.echo("again") == "again"
    assert not container._died.ready()
