"""The in-app inbox of residents, officers and supervisors."""

from __future__ import annotations

from functools import partial

from werkzeug.wrappers import Request, Response

from beat_shared.http import http, json_response, page_body, page_request
from notifications import commands, queries
from notifications.endpoints import PEOPLE, ServiceParts
from notifications.schemas import InboxItemView, InboxPage, InboxQuery, UnreadCount

inbox_endpoint = partial(http, roles=PEOPLE, tags=["inbox"])
TRUE = ("1", "true", "yes")


class InboxEndpoints(ServiceParts):
    """`/inbox/...`: a person reads only their own items."""

    @inbox_endpoint("GET", "/inbox", query_schema=InboxQuery, response_schema=InboxPage)
    def inbox(self, request: Request) -> Response:
        """My in-app messages, newest first"""
        page = page_request(request.args)
        unread_only = request.args.get("unread", "").lower() in TRUE
        items, total = queries.inbox_page(self.db, request.principal.subject, unread_only, page.offset, page.size)
        return json_response(page_body([queries.inbox_view(item) for item in items], total, page))

    @inbox_endpoint("GET", "/inbox/unread-count", response_schema=UnreadCount)
    def inbox_unread(self, request: Request) -> Response:
        """How many of my in-app messages are unread"""
        return json_response({"unread": queries.unread_count(self.db, request.principal.subject)})

    @inbox_endpoint("POST", "/inbox/<item_id>/read", response_schema=InboxItemView)
    def inbox_mark_read(self, request: Request, item_id: str) -> Response:
        """Mark one in-app message read"""
        item = commands.mark_read(self.db, self.clock.now(), request.principal.subject, item_id)
        return json_response(queries.inbox_view(item))

    @inbox_endpoint("POST", "/inbox/read-all", response_schema=UnreadCount)
    def inbox_mark_all_read(self, request: Request) -> Response:
        """Mark all my in-app messages read"""
        commands.mark_all_read(self.db, self.clock.now(), request.principal.subject)
        return json_response({"unread": 0})
