"""A broadcast to a beat larger than a page: planned page by page, everyone reached once (issue 27)."""

import pytest

from notifications import planning
from notifications.models import Message, Notification


@pytest.fixture
def officer_rv01_on_its_beat(stand_ins):
    officer = {"subject": "officer-rv01", "name": "Officer Delgado", "email": None, "phone": None}
    stand_ins.concerns.beats["RV-01"] = {"officers": [officer], "supervisors": []}


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_a_beat_larger_than_a_page_is_planned_page_by_page_and_reached_once(
    service, smtp_sink, notifications_db, kit, web_session, monkeypatch
):
    monkeypatch.setattr(
        planning, "PAGE_SIZE", 2
    )  # nine subscribers: five pages (statistics refreshed after the fourth), IN lists of two
    people = [kit.token("resident", f"resident-{number}") for number in range(9)]
    for number, headers in enumerate(people):
        contact = {"email": f"resident{number}@example.org", "language": "es" if number % 2 else "en"}
        assert web_session.put("/me/contact", json=contact, headers=headers).status_code == 200
        assert web_session.post("/me/subscriptions", json={"beat_code": "RV-01"}, headers=headers).status_code == 201
    no_alert_mail = {"topic": "beat_alerts", "channel": "email", "enabled": False}  # read from its own page
    assert web_session.put("/me/preferences", json=no_alert_mail, headers=people[3]).status_code == 200

    body = {"kind": "alert", "title": "Car break-ins on Elm St", "body": "Lock your car."}
    answer = web_session.post("/broadcasts/RV-01", json=body, headers=kit.token("officer", "officer-rv01"))
    assert answer.status_code == 201, answer.text
    kit.dispatch(service)
    kit.dispatch(service)  # a second round finds nothing left to plan or send

    [notification] = kit.rows(notifications_db, Notification)
    assert notification.status == "expanded"
    messages = kit.rows(notifications_db, Message)
    assert sorted((m.recipient_key, m.channel) for m in messages) == sorted(
        [(f"user:resident-{n}", "inbox") for n in range(9)]
        + [(f"user:resident-{n}", "email") for n in range(9) if n != 3]
    )
    assert {m.status for m in messages} == {"delivered"}
    mails = smtp_sink.mailbox()
    assert sorted(mail["To"] for mail in mails) == [f"resident{n}@example.org" for n in range(9) if n != 3]
    assert {mail["To"]: mail["Content-Language"] for mail in mails}["resident1@example.org"] == "es"
    if notifications_db.startswith("postgresql"):  # the planner's statistics were refreshed mid-broadcast
        kit.wait_for(lambda: last_analyze(notifications_db) is not None, message="messages analyzed")


def last_analyze(url):
    from sqlalchemy import text

    from beat_shared.db import make_engine

    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'messages'")
        ).scalar()
    engine.dispose()
    return found
