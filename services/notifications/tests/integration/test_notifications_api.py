"""Bad input gets a clear 4xx and stores nothing; template previews; the OpenAPI document."""

from notifications.models import Broadcast, Notification, Recipient


def test_invalid_email_or_phone_is_refused_and_nothing_stored(service, web_session, notifications_db, kit):
    headers = kit.token("resident", "resident-1")
    bad_email = web_session.put("/me/contact", json={"email": "not-an-address"}, headers=headers)
    assert bad_email.status_code == 400
    assert bad_email.json()["error"]["details"] == {"email": ["not a valid email address"]}
    bad_phone = web_session.put("/me/contact", json={"email": "ok@example.org", "phone": "555-CALL"}, headers=headers)
    assert bad_phone.status_code == 400 and "phone" in bad_phone.json()["error"]["details"]
    bad_zone = web_session.put(
        "/me/contact", json={"timezone": "Mars/Olympus", "quiet_start": "25:00"}, headers=headers
    )
    assert set(bad_zone.json()["error"]["details"]) == {"timezone", "quiet_start"}
    assert kit.rows(notifications_db, Recipient, Recipient.email.is_not(None)) == []
    not_json = web_session.put("/me/contact", data="{", headers={**headers, "Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_input"


def test_bad_preferences_subscriptions_and_broadcasts_are_refused(
    service, stand_ins, web_session, notifications_db, kit
):
    resident = kit.token("resident", "resident-1")
    officer = kit.token("officer", "officer-rv01")
    assigned = {"subject": "officer-rv01", "name": "Officer Delgado", "email": None, "phone": None}
    stand_ins.concerns.beats["RV-01"] = {"officers": [assigned], "supervisors": []}
    topic = web_session.put(
        "/me/preferences", json={"topic": "gossip", "channel": "email", "enabled": True}, headers=resident
    )
    assert topic.status_code == 400 and "topic" in topic.json()["error"]["details"]
    channel = web_session.put(
        "/me/preferences", json={"topic": "*", "channel": "pigeon", "enabled": True}, headers=resident
    )
    assert channel.status_code == 400 and "channel" in channel.json()["error"]["details"]
    beat = web_session.post("/me/subscriptions", json={"beat_code": "RV 01; drop"}, headers=resident)
    assert beat.status_code == 400
    made_up = web_session.post("/me/subscriptions", json={"beat_code": "ZZ-99"}, headers=resident)
    assert made_up.status_code == 400 and made_up.json()["error"]["details"] == {"beat_code": ["unknown beat"]}
    assert web_session.get("/me/subscriptions", headers=resident).json()["beat_codes"] == []
    # When concerns cannot say, the resident is not turned away (following an unknown beat sends nothing).
    unchecked = web_session.post("/me/subscriptions", json={"beat_code": "ZZ-98"}, headers=resident)
    assert unchecked.status_code == 201 and unchecked.json()["beat_codes"] == ["ZZ-98"]
    web_session.delete("/me/subscriptions/ZZ-98", headers=resident)
    no_title = web_session.post("/broadcasts/RV-01", json={"kind": "alert"}, headers=officer)
    assert no_title.status_code == 400 and "title" in no_title.json()["error"]["details"]
    meeting = web_session.post("/broadcasts/RV-01", json={"kind": "meeting", "title": "x"}, headers=officer)
    assert meeting.status_code == 400
    by_resident = web_session.post("/broadcasts/RV-01", json={"kind": "alert", "title": "x"}, headers=resident)
    assert by_resident.status_code == 403
    elsewhere = web_session.post("/broadcasts/RV-05", json={"kind": "alert", "title": "x"}, headers=officer)
    assert elsewhere.status_code == 403  # officer-rv01 is not assigned to RV-05
    assert kit.rows(notifications_db, Broadcast) == [] and kit.rows(notifications_db, Notification) == []
    gone = web_session.delete("/me/subscriptions/RV-05", headers=resident)
    assert gone.status_code == 404


def test_template_preview(service, web_session, kit):
    admin = kit.token("admin", "admin-1")
    listed = web_session.get("/templates", headers=admin).json()
    assert "concern_acknowledged" in listed["templates"] and listed["languages"] == ["en", "es"]
    spanish = web_session.post("/templates/concern_resolved/preview", json={"language": "es"}, headers=admin).json()
    assert spanish["language"] == "es" and spanish["subject"] == "Su inquietud se ha resuelto"
    french = web_session.post("/templates/concern_resolved/preview", json={"language": "fr"}, headers=admin).json()
    assert french["language"] == "en" and french["sms_segments"] == 1
    unknown = web_session.post("/templates/no_such_thing/preview", json={}, headers=admin)
    assert unknown.status_code == 404 and "no_such_thing" in unknown.json()["error"]["message"]
    thin = web_session.post("/templates/beat_alert/preview", json={"context": {"title": "x"}}, headers=admin)
    assert thin.status_code == 400 and thin.json()["error"]["code"] == "invalid_input"
    officer = kit.token("officer", "officer-rv01")
    assert web_session.post("/templates/beat_alert/preview", json={}, headers=officer).status_code == 403


def test_message_log_filters_are_validated(service, web_session, kit):
    admin = kit.token("admin", "admin-1")
    assert web_session.get("/messages?status=lost", headers=admin).status_code == 400
    assert web_session.get("/messages/nope", headers=admin).status_code == 404
    assert web_session.post("/messages/nope/retry", headers=admin).status_code == 404
    assert web_session.get("/notifications?status=failed", headers=admin).json()["total_items"] == 0


def test_openapi_document_lists_the_api(service, web_session):
    document = web_session.get("/openapi.json").json()
    for path in (
        "/me/contact",
        "/inbox",
        "/broadcasts/{beat_code}",
        "/messages/{message_id}/retry",
        "/templates/{name}/preview",
        "/sms/inbound",
        "/unsubscribe/{token}",
    ):
        assert path in document["paths"], path
    metrics = web_session.get("/metrics").text
    assert "beat_notifications_messages_current" in metrics


def test_a_new_persons_first_calls_made_at_once_all_answer(service, web_session, notifications_db, kit):
    """A page asks for contact, preferences and subscriptions at once (the web service's alerts
    page): each first call makes the person's directory entry, and none may fail on the others'."""
    import eventlet

    for attempt in range(5):
        headers = kit.token("resident", f"resident-at-once-{attempt}")
        calls = [
            eventlet.spawn(web_session.get, path, headers=headers)
            for path in ("/me/contact", "/me/preferences", "/me/subscriptions", "/me/contact")
        ]
        assert [call.wait().status_code for call in calls] == [200, 200, 200, 200], attempt
        assert len(kit.rows(notifications_db, Recipient, Recipient.subject == f"resident-at-once-{attempt}")) == 1
