"""Stopping messages to an address without signing in: an unsubscribe link (List-Unsubscribe,
RFC 8058 one-click) and an SMS STOP or START relayed by the gateway."""

from __future__ import annotations

import hmac
from functools import partial

from werkzeug.wrappers import Request, Response

from beat_shared.errors import PermissionDenied, Unauthenticated
from beat_shared.http import http, json_response, read_json
from notifications import commands, pages
from notifications.channels.sms import keyword
from notifications.domain.preferences import normalise_phone
from notifications.domain.tokens import read_unsubscribe_token
from notifications.endpoints import JSON_ERROR, ServiceParts
from notifications.schemas import SmsInboundInput, SmsInboundView, UnsubscribeView

unsubscribe_endpoint = partial(http, auth="none", tags=["unsubscribe"])
TRUE = ("1", "true", "yes")


class SuppressionEndpoints(ServiceParts):
    """`/unsubscribe/{token}` and `/sms/inbound`: both suppress the address itself."""

    @http(
        "POST",
        "/sms/inbound",
        auth="none",
        request_schema=SmsInboundInput,
        response_schema=SmsInboundView,
        tags=["sms"],
        responses={
            "401": {"description": "X-Gateway-Token missing or wrong", "content": JSON_ERROR},
            "403": {"description": "inbound SMS is not configured", "content": JSON_ERROR},
        },
    )
    def sms_inbound(self, request: Request) -> Response:
        """Inbound SMS from the gateway: STOP opts the number out of SMS, START opts back in"""
        expected = self.settings.sms_inbound_token
        given = request.headers.get("X-Gateway-Token", "")
        if not expected:
            raise PermissionDenied("inbound SMS is not configured (NOTIFICATIONS_SMS_INBOUND_TOKEN)")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise Unauthenticated("the gateway token is missing or wrong")
        body = read_json(request, SmsInboundInput)
        phone = normalise_phone(body["sender"])
        word = keyword(body["text"])
        if word is not None:
            commands.sms_keyword(self.db, self.clock.now(), self.settings.signing_secret, phone, word)
        return json_response({"action": word or "ignored"})

    @unsubscribe_endpoint("GET", "/unsubscribe/<token>")
    def unsubscribe_page(self, request: Request, token: str) -> Response:
        """The page an unsubscribe link opens"""
        read_unsubscribe_token(self.settings.signing_secret, token)  # a forged link gets a 400
        return Response(pages.unsubscribe_page(token), status=200, mimetype="text/html")

    @unsubscribe_endpoint("POST", "/unsubscribe/<token>", response_schema=UnsubscribeView)
    def unsubscribe(self, request: Request, token: str) -> Response:
        """One-click unsubscribe (RFC 8058); ?all=true stops every topic"""
        everything = request.args.get("all", "").lower() in TRUE
        secret = self.settings.signing_secret
        return json_response(commands.unsubscribe_by_token(self.db, self.clock.now(), secret, token, everything))
