"""The delivery log and the tools around it: messages and their attempts, a failed message
retried, notifications, templates previewed, webhook URLs checked, the development outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from marshmallow import Schema
from sqlalchemy.orm import Session
from werkzeug.wrappers import Request, Response

from beat_shared.config import is_production, setting_from
from beat_shared.dev_mail import caught_mail
from beat_shared.errors import InvalidInput, NotFound
from beat_shared.fields import schema_instance
from beat_shared.http import http, json_response, page_body, page_request, read_json
from beat_shared.roles import ADMINS
from beat_shared.rows import fields_of
from notifications import commands, dev_outbox, queries
from notifications.channels.sms import count_segments
from notifications.channels.webhooks import validate_url
from notifications.domain.preferences import LANGUAGES
from notifications.endpoints import READERS_OF_THE_LOG, RENDERER, ServiceParts
from notifications.rendering import SAMPLE_CONTEXTS
from notifications.schemas import (
    MessagePage,
    MessageQuery,
    MessageView,
    NotificationPage,
    NotificationQuery,
    PreviewInput,
    PreviewView,
    TemplatesView,
    WebhookUrlInput,
    WebhookUrlView,
)

log_endpoint = partial(http, roles=READERS_OF_THE_LOG, tags=["delivery log"])
PageOf = Callable[[Session, dict[str, Any], int, int], tuple[Sequence[Any], int]]
template_endpoint = partial(http, roles=ADMINS, tags=["templates"])
DEV_OUTBOX_CHANNELS = ("sms", "webhook")  # e-mail is read from the mail catcher, as it arrived


class DeliveryEndpoints(ServiceParts):
    """For admins (and supervisors, who read the log), agencies checking a URL, and developers."""

    @log_endpoint("GET", "/messages", query_schema=MessageQuery, response_schema=MessagePage)
    def list_messages(self, request: Request) -> Response:
        """The delivery log, newest first"""
        return self._log_page(request, MessageQuery, queries.message_page, queries.message_view)

    @log_endpoint("GET", "/messages/<message_id>", response_schema=MessageView)
    def get_message(self, request: Request, message_id: str) -> Response:
        """One message with its delivery attempts"""
        message, attempts = queries.message_with_attempts(self.db, message_id)
        return json_response(queries.message_view(message, attempts))

    @log_endpoint("POST", "/messages/<message_id>/retry", roles=ADMINS, response_schema=MessageView)
    def retry_message(self, request: Request, message_id: str) -> Response:
        """Queue a failed message again (same id: receivers de-duplicate)"""
        message = commands.retry_message(self.db, self.clock.now(), self.outbox.add, message_id)
        return json_response(queries.message_view(message))

    @log_endpoint("GET", "/notifications", query_schema=NotificationQuery, response_schema=NotificationPage)
    def list_notifications(self, request: Request) -> Response:
        """Notifications (an event's audiences) and whether they were expanded into messages"""
        return self._log_page(request, NotificationQuery, queries.notification_page, queries.notification_view)

    def _log_page(self, request: Request, query: type[Schema], rows_of: PageOf, view: Callable[[Any], Any]) -> Response:
        """A page of the log: the query's filters, then `rows_of(session, filters, offset, size)`."""
        filters = query().load(request.args.to_dict())
        page = page_request(request.args)
        rows, total = rows_of(self.db, filters, page.offset, page.size)
        return json_response(page_body([view(row) for row in rows], total, page))

    @template_endpoint("GET", "/templates", response_schema=TemplatesView)
    def list_templates(self, request: Request) -> Response:
        """The templates and languages shipped"""
        return json_response({"templates": RENDERER.names(), "languages": list(LANGUAGES)})

    @template_endpoint("POST", "/templates/<name>/preview", request_schema=PreviewInput, response_schema=PreviewView)
    def preview_template(self, request: Request, name: str) -> Response:
        """Render a template in a language with an example or given context"""
        body = schema_instance(PreviewInput).load(request.get_json(silent=True) or {})
        if not RENDERER.exists(name):
            RENDERER.render(name, "en", {})  # raises NotFound naming the known templates
        context = body["context"] if body.get("context") is not None else SAMPLE_CONTEXTS.get(name, {})
        try:
            rendered = RENDERER.render(name, body["language"], context)
        except Exception as error:
            if type(error).__name__ == "UndefinedError":
                raise InvalidInput("the context lacks a field the template uses", {"context": [str(error)]})
            raise
        segments = count_segments(rendered.sms)
        return json_response(
            {
                "template": name,
                **fields_of(rendered, ("language", "subject", "text", "html", "sms")),
                "sms_segments": segments.segments,
                "sms_encoding": segments.encoding,
            }
        )

    @http(
        "POST",
        "/webhooks/validate-url",
        roles=("admin", "agency"),
        request_schema=WebhookUrlInput,
        response_schema=WebhookUrlView,
        tags=["webhooks"],
    )
    def validate_webhook_url(self, request: Request) -> Response:
        """Check that a webhook URL may be used (https in production, not a private address)"""
        body = read_json(request, WebhookUrlInput)
        validate_url(body["url"], self.settings)
        return json_response({"url": body["url"], "allowed": True})

    @http("GET", "/dev/outbox", auth="none", tags=["development"])
    def dev_outbox_page(self, request: Request) -> Response:
        """Development only: what was sent, newest first (HTML); 404 in production"""
        if is_production(self.config):
            raise NotFound("there is no development outbox in production")
        mails = caught_mail(Path(setting_from(self.config, "BEAT_DEV_MAIL_DIR")))
        deliveries = queries.recent_deliveries(self.db, DEV_OUTBOX_CHANNELS)
        return Response(dev_outbox.render_page(mails, deliveries), mimetype="text/html")
