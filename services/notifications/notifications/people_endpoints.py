"""The signed-in person's own delivery settings: contact details, preferences per topic and
channel, opting out, and the beats they follow."""

from __future__ import annotations

from functools import partial
from typing import Any

from werkzeug.wrappers import Request, Response

from beat_shared.http import http, json_response, read_json
from notifications import commands, queries
from notifications.domain.rules import TOPICS
from notifications.endpoints import PEOPLE, ServiceParts
from notifications.models import Recipient
from notifications.schemas import (
    ContactInput,
    ContactView,
    PreferenceInput,
    PreferencesView,
    SubscriptionInput,
    SubscriptionsView,
)

me_endpoint = partial(http, roles=PEOPLE, tags=["me"])
ALREADY_FOLLOWING = {
    "200": {
        "description": "already following this beat",
        "content": {"application/json": {"schema": SubscriptionsView}},
    }
}


class PeopleEndpoints(ServiceParts):
    """`/me/...` for residents, officers and supervisors."""

    def _me(self, request: Request) -> Recipient:
        """The signed-in person's directory entry (made on first use)."""
        return commands.recipient_for(self.db, self.clock.now(), request.principal.subject, request.principal.role)

    @me_endpoint("GET", "/me/contact", response_schema=ContactView)
    def get_contact(self, request: Request) -> Response:
        """My contact details and delivery settings"""
        return json_response(queries.recipient_view(self._me(request)))

    @me_endpoint("PUT", "/me/contact", request_schema=ContactInput, response_schema=ContactView)
    def put_contact(self, request: Request) -> Response:
        """Set my contact details, language, quiet hours and digest"""
        body = read_json(request, ContactInput)
        recipient = commands.update_contact(self.db, self.clock.now(), self._me(request), body)
        return json_response(queries.recipient_view(recipient))

    @me_endpoint("GET", "/me/preferences", response_schema=PreferencesView)
    def get_preferences(self, request: Request) -> Response:
        """My preferences per topic and channel"""
        return json_response(self._preferences_body(self._me(request)))

    @me_endpoint("PUT", "/me/preferences", request_schema=PreferenceInput, response_schema=PreferencesView)
    def put_preference(self, request: Request) -> Response:
        """Switch a topic on or off on a channel (* = all)"""
        body = read_json(request, PreferenceInput)
        recipient = self._me(request)
        commands.set_preference(self.db, recipient, body["topic"], body["channel"], body["enabled"])
        return json_response(self._preferences_body(recipient))

    def _preferences_body(self, recipient: Recipient) -> dict[str, Any]:
        preferences = queries.preferences_of(self.db, recipient)
        return {"opted_out": recipient.opted_out, "topics": list(TOPICS), "preferences": preferences}

    @me_endpoint("POST", "/me/opt-out", response_schema=ContactView)
    def opt_out(self, request: Request) -> Response:
        """Opt out of every notification on every channel"""
        return self._opted_out(request, True)

    @me_endpoint("DELETE", "/me/opt-out", response_schema=ContactView)
    def opt_in(self, request: Request) -> Response:
        """Opt back in"""
        return self._opted_out(request, False)

    def _opted_out(self, request: Request, opted_out: bool) -> Response:
        recipient = commands.set_opt_out(self.db, self.clock.now(), self._me(request), opted_out)
        return json_response(queries.recipient_view(recipient))

    @me_endpoint("GET", "/me/subscriptions", response_schema=SubscriptionsView)
    def get_subscriptions(self, request: Request) -> Response:
        """Beats whose alerts I follow"""
        return json_response(queries.subscriptions_view(self.db, self._me(request)))

    @me_endpoint(
        "POST",
        "/me/subscriptions",
        request_schema=SubscriptionInput,
        response_schema=SubscriptionsView,
        status=201,
        responses=ALREADY_FOLLOWING,
    )
    def subscribe(self, request: Request) -> Response:
        """Follow a beat's alerts and meeting announcements"""
        body = read_json(request, SubscriptionInput)
        self.require_known_beat(body["beat_code"])
        recipient = self._me(request)
        created = commands.subscribe(self.db, self.clock.now(), recipient, body["beat_code"], watch=body["watch"])
        return json_response(queries.subscriptions_view(self.db, recipient), 201 if created else 200)

    @me_endpoint("DELETE", "/me/subscriptions/<beat_code>", response_schema=SubscriptionsView)
    def unsubscribe_beat(self, request: Request, beat_code: str) -> Response:
        """Stop following a beat"""
        recipient = self._me(request)
        commands.unsubscribe_beat(self.db, recipient, beat_code)
        return json_response(queries.subscriptions_view(self.db, recipient))
