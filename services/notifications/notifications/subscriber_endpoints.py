"""Following a beat's alerts by e-mail without an account (double opt-in): asking, confirming from
the mail's link, and managing with the manage token (the web service's `/alerts` pages use them)."""

from __future__ import annotations

from functools import partial

from werkzeug.wrappers import Request, Response

from beat_shared.entrypoints import timer
from beat_shared.errors import Unauthenticated
from beat_shared.http import http, json_response, read_json
from beat_shared.ratelimit_provider import AddressLimiter
from notifications import commands, queries
from notifications.endpoints import ServiceParts
from notifications.models import Recipient
from notifications.schemas import (
    MANAGE_TOKEN_RESPONSES,
    SUBSCRIBE_LIMIT_RESPONSES,
    SUBSCRIBER_TOKEN_HEADER,
    ConfirmationInput,
    ConfirmationView,
    SubscriberAsked,
    SubscriberInput,
    SubscriberLanguageInput,
    SubscriberView,
)

anyone = partial(http, auth="none", tags=["subscribers"])
# The manage token travels in a header, never in a URL of this API.
managing = partial(
    anyone,
    headers={SUBSCRIBER_TOKEN_HEADER: "the manage token from a mail's link"},
    responses=MANAGE_TOKEN_RESPONSES,
)


class SubscriberEndpoints(ServiceParts):
    """`/subscribers/...`, and the hourly forgetting of what was never confirmed."""

    subscribe_limiter: AddressLimiter

    @anyone(
        "POST",
        "/subscribers",
        request_schema=SubscriberInput,
        response_schema=SubscriberAsked,
        status=202,
        responses=SUBSCRIBE_LIMIT_RESPONSES,
    )
    def ask_to_subscribe(self, request: Request) -> Response:
        """Follow a beat's alerts by e-mail without an account: a confirmation mail is sent"""
        now = self.clock.now()
        self.subscribe_limiter(request.remote_addr, now)
        body = read_json(request, SubscriberInput)
        self.require_known_beat(body["beat_code"])
        secret = self.settings.signing_secret
        commands.ask_to_subscribe(
            self.db, now, secret, body["email"], body["beat_code"], body["language"], body["watch"]
        )
        return json_response({"status": "confirmation_sent"}, 202)

    @anyone("POST", "/subscribers/confirm", request_schema=ConfirmationInput, response_schema=ConfirmationView)
    def confirm_subscription(self, request: Request) -> Response:
        """Confirm a subscription with the token of the confirmation mail's link"""
        token = read_json(request, ConfirmationInput)["token"]
        return json_response(
            commands.confirm_subscription(self.db, self.clock.now(), self.settings.signing_secret, token)
        )

    @managing("GET", "/subscribers/me", response_schema=SubscriberView)
    def get_subscriber(self, request: Request) -> Response:
        """The alerts a manage link stands for"""
        return json_response(queries.subscriber_view(self.db, self._subscriber(request)))

    @managing("PUT", "/subscribers/me/language", request_schema=SubscriberLanguageInput, response_schema=SubscriberView)
    def set_subscriber_language(self, request: Request) -> Response:
        """The language of a subscriber's mails"""
        recipient = self._subscriber(request)
        language = read_json(request, SubscriberLanguageInput)["language"]
        commands.set_subscriber_language(self.db, self.clock.now(), recipient, language)
        return json_response(queries.subscriber_view(self.db, recipient))

    @managing("DELETE", "/subscribers/me/beats/<beat_code>", response_schema=SubscriberView)
    def stop_subscriber_beat(self, request: Request, beat_code: str) -> Response:
        """Stop one beat's alerts"""
        recipient = self._subscriber(request)
        commands.stop_subscriber_beat(self.db, recipient, beat_code)
        return json_response(queries.subscriber_view(self.db, recipient))

    @managing("DELETE", "/subscribers/me", status=204)
    def forget_subscriber(self, request: Request) -> Response:
        """Stop every alert and forget the address"""
        commands.forget_subscriber(self.db, self._subscriber(request))
        return Response(status=204)

    @timer(interval=3600)
    def forget_unconfirmed_subscribers(self) -> int:
        """Subscriptions never confirmed within a week, and the addresses left with none."""
        return commands.forget_unconfirmed_subscribers(self.db, self.clock.now())

    def _subscriber(self, request: Request) -> Recipient:
        """The directory entry of the manage token in the request's header (never in its URL)."""
        token = request.headers.get(SUBSCRIBER_TOKEN_HEADER, "")
        if not token:
            raise Unauthenticated(f"send the manage token of a mail's link in {SUBSCRIBER_TOKEN_HEADER}")
        return queries.managed_subscriber(self.db, self.clock.now(), self.settings.signing_secret, token)
