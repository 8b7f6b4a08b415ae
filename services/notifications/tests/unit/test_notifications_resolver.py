"""The resolver turns every "cannot tell now" into a ResolutionError (retried), never a bug."""

import pytest
from kombu.exceptions import OperationalError

from notifications.resolver import ResolutionError, RpcResolver


class BrokerDown:
    """Stands in for nameko's RpcProxy while RabbitMQ restarts: publishing the request fails."""

    def __getattr__(self, method):
        def call(*args):
            raise OperationalError("[Errno 111] ECONNREFUSED")

        return call


class ConnectionReset:
    def __getattr__(self, method):
        def call(*args):
            raise ConnectionResetError(104, "Connection reset by peer")

        return call


@pytest.mark.parametrize("proxy", [BrokerDown(), ConnectionReset()])
def test_a_broker_outage_is_a_temporary_resolution_failure(proxy):
    resolver = RpcResolver(concerns=proxy, referrals=proxy, surveys=proxy, timeout=1)
    with pytest.raises(ResolutionError, match=r"surveys\.invitation_link could not be asked"):
        resolver.invitation_link("an-invitation")
    with pytest.raises(ResolutionError, match=r"concerns\.beat_contacts could not be asked"):
        resolver.beat_contacts("RV-01")
