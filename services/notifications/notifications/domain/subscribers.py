"""Following a beat without an account: by e-mail, confirmed from the mail (double opt-in), managed
and stopped from the link in every mail. The rules and links of it; its use cases are in
`commands.py` (asking, confirming, stopping, forgetting) and `queries.py` (what a manage link shows).

Such a subscriber is a directory entry (`Recipient`) whose subject is `email:<keyed hash of the
address>`: the same address always finds the same entry, and nothing outside this table can read
the address from the subject. Their subscription waits (`confirmed_at` empty) until the link in the
confirmation mail is followed; unconfirmed ones are forgotten after CONFIRM_DAYS. The links carry
signed tokens (`tokens.subscriber_token`); the pages send them back in a body or a header, never in
a URL of the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from notifications.domain.tokens import CONFIRM, MANAGE, address_hash, subscriber_token

SUBJECT_PREFIX = "email:"
CONFIRM_DAYS = 7  # a confirmation link works this long; unconfirmed subscriptions are then forgotten
CONFIRMATION = "subscriber_confirmation"  # the rule, topic stem and template of the confirmation mail


def subject_of(secret: str, email: str) -> str:
    return SUBJECT_PREFIX + address_hash(secret, "email", email)[:40]


def is_subscriber(subject: str) -> bool:
    return subject.startswith(SUBJECT_PREFIX)


def confirmation_link_token(secret: str, subject: str, beat_code: str, asked_at: datetime, watch: bool) -> str:
    expires = int((asked_at + timedelta(days=CONFIRM_DAYS)).timestamp())
    return subscriber_token(secret, CONFIRM, subject, beat_code, expires, watch)


def manage_token(secret: str, subject: str) -> str:
    return subscriber_token(secret, MANAGE, subject)
