"""The alerts form: what the page checks itself before asking notifications, and what it asks."""

from web.domain import alerts


def test_a_channel_needs_its_address_and_quiet_hours_come_as_a_pair():
    assert alerts.read_form({"beat_code": "RV-01", "channel": "sms"}).errors == {"phone": "required"}
    assert alerts.read_form({"beat_code": "RV-01", "channel": "email"}).errors == {"email": "required"}
    assert alerts.read_form({"channel": "post", "email": "a@b.org"}).errors == {
        "beat_code": "required",
        "channel": "required",
    }
    half = alerts.read_form({"beat_code": "RV-01", "channel": "email", "email": "a@b.org", "quiet_end": "07:00"})
    assert half.errors == {"quiet_start": "required"}
    fine = alerts.read_form({"beat_code": "RV-01", "channel": "email", "email": " a@b.org ", "language": "xx"})
    assert fine.errors == {} and fine.values["email"] == "a@b.org" and fine.values["language"] == "en"


def test_the_chosen_channel_is_switched_on_and_the_other_off_for_every_beat_topic():
    assert alerts.preference_bodies("sms") == [
        {"topic": "beat_alerts", "channel": "email", "enabled": False},
        {"topic": "beat_alerts", "channel": "sms", "enabled": True},
        {"topic": "meetings", "channel": "email", "enabled": False},
        {"topic": "meetings", "channel": "sms", "enabled": True},
        {"topic": "neighbourhood_watch", "channel": "email", "enabled": False},
        {"topic": "neighbourhood_watch", "channel": "sms", "enabled": True},
    ]
    body = alerts.contact_body(alerts.read_form({"channel": "sms", "phone": "+15555550123", "language": "es"}))
    assert body == {"language": "es", "quiet_start": None, "quiet_end": None, "phone": "+15555550123"}


def test_a_newcomer_gets_the_pages_language_and_a_returning_person_their_own():
    newcomer = {"ref": "r-1", "email": None, "phone": None, "language": "en"}
    assert alerts.blank_form(newcomer, {}, "RV-02", "es").values["language"] == "es"
    returning = {"ref": "r-2", "email": "a@b.org", "phone": None, "language": "en"}
    form = alerts.blank_form(
        returning, {"preferences": [{"topic": "meetings", "channel": "sms", "enabled": True}]}, "", "es"
    )
    assert form.values["language"] == "en" and form.values["channel"] == "sms" and form.values["email"] == "a@b.org"
