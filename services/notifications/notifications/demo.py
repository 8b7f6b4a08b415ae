"""Demo data for Riverton: a few residents following their beats, officers' preferences."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.clock import SystemClock
from notifications import commands
from notifications.models import Recipient

RESIDENTS = [
    # subject, email, language, beats, quiet hours, digest
    ("resident-demo-1", "ana.resident@example.org", "es", ["RV-01"], ("22:00", "07:00"), False),
    ("resident-demo-2", "ben.resident@example.org", "en", ["RV-01", "RV-02"], (None, None), True),
    ("resident-demo-3", "chloe.resident@example.org", "en", ["RV-04"], (None, None), False),
]
OFFICERS = [f"officer-rv0{n}" for n in range(1, 7)]


def seed(session: Session) -> str:
    """Idempotent: people already in the directory are left as they are."""
    now = SystemClock().now()
    added = 0
    for subject, email, language, beats, (quiet_start, quiet_end), digest in RESIDENTS:
        if session.scalar(select(Recipient.id).where(Recipient.subject == subject)) is not None:
            continue
        resident = commands.recipient_for(session, now, subject, "resident")
        recipient = commands.update_contact(
            session,
            now,
            resident,
            {
                "email": email,
                "language": language,
                "timezone": "America/Chicago",
                "quiet_start": quiet_start,
                "quiet_end": quiet_end,
                "digest": digest,
            },
        )
        for beat in beats:
            commands.subscribe(session, now, recipient, beat)
        added += 1
    for subject in OFFICERS:
        if session.scalar(select(Recipient.id).where(Recipient.subject == subject)) is not None:
            continue
        officer = commands.recipient_for(session, now, subject, "officer")
        # Officers read referral updates in the app; new concerns also by email (the default).
        commands.set_preference(session, officer, "referral_updates", "email", False)
        added += 1
    return f"notifications: {added} directory entries added ({len(RESIDENTS)} residents, {len(OFFICERS)} officers)"
