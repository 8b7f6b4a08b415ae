"""Read models of the notifications service, for pages and screens."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import domain
from notifications.models import DeliveryAttempt, Message


def recent_deliveries(session: Session, channels: Sequence[str], limit: int = 100) -> list[dict[str, Any]]:
    """The latest `limit` messages on these channels, newest first, each with its delivery attempts
    (the delivery log's view of a message)."""
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.channel.in_(channels))
            .order_by(Message.created_at.desc(), Message.id)
            .limit(limit)
        )
    )
    attempts: dict[str, list[DeliveryAttempt]] = defaultdict(list)
    if messages:
        query = select(DeliveryAttempt).where(DeliveryAttempt.message_id.in_([m.id for m in messages]))
        for attempt in session.scalars(query.order_by(DeliveryAttempt.id)):
            attempts[attempt.message_id].append(attempt)
    return [domain.message_view(message, attempts[message.id]) for message in messages]
