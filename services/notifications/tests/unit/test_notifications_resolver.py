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


class CountingConcerns:
    """Stands in for the concerns RPC proxy, counting the questions it is asked."""

    def __init__(self, batch_answers=True):
        self.asked: list[tuple[str, object]] = []
        self.batch_answers = batch_answers

    def reporter_contacts(self, concern_ids):
        self.asked.append(("reporter_contacts", list(concern_ids)))
        if not self.batch_answers:
            raise ConnectionResetError(104, "Connection reset by peer")
        return {concern_id: {"email": f"{concern_id}@example.org"} for concern_id in concern_ids}

    def reporter_contact(self, concern_id):
        self.asked.append(("reporter_contact", concern_id))
        return {"email": f"{concern_id}@example.org"}


def test_prefetched_reporters_are_answered_from_the_round_cache():
    concerns = CountingConcerns()
    resolver = RpcResolver(concerns=concerns, referrals=None, surveys=None, timeout=1)
    resolver.reporter_contact("c-1")
    resolver.prefetch_reporter_contacts(["c-1", "c-2", "c-3", "c-2", None])
    assert [resolver.reporter_contact(c)["email"] for c in ("c-1", "c-2", "c-3")] == [
        "c-1@example.org",
        "c-2@example.org",
        "c-3@example.org",
    ]
    # c-1 was known already and c-2 asked once; nothing asked after the prefetch
    assert concerns.asked == [("reporter_contact", "c-1"), ("reporter_contacts", ["c-2", "c-3"])]


def test_a_failed_prefetch_leaves_each_reporter_to_be_asked_alone():
    concerns = CountingConcerns(batch_answers=False)
    resolver = RpcResolver(concerns=concerns, referrals=None, surveys=None, timeout=1)
    resolver.prefetch_reporter_contacts(["c-1", "c-2"])
    assert resolver.reporter_contact("c-2") == {"email": "c-2@example.org"}
    assert concerns.asked == [("reporter_contacts", ["c-1", "c-2"]), ("reporter_contact", "c-2")]
