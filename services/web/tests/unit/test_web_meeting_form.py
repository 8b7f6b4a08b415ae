"""The officer's meeting forms: what a browser posted, turned into the concerns API's bodies, and
concerns' 400 details turned back into the forms' field names (pure, no services)."""

from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from web.domain import meeting_form

CHICAGO = ZoneInfo("America/Chicago")


def schedule(**fields) -> meeting_form.MeetingForm:
    typed = {
        "kind": "community_meeting",
        "title": "Beat meeting",
        "venue": "Library",
        "starts_at": "2026-12-03T18:30",
        "ends_at": "2026-12-03T20:00",
        **fields,
    }
    return meeting_form.read_schedule_form(MultiDict(typed))


def test_a_community_meeting_sends_its_chosen_agenda_in_utc():
    meeting = schedule(agenda=["c-1", "c-2"])
    body = meeting_form.schedule_body(meeting, CHICAGO)
    assert body["starts_at"] == "2026-12-04T00:30:00Z" and body["ends_at"] == "2026-12-04T02:00:00Z"
    assert body["agenda_concern_ids"] == ["c-1", "c-2"]
    assert meeting_form.schedule_body(schedule(), CHICAGO)["agenda_concern_ids"] == []  # none kept


def test_an_activity_sends_no_agenda_and_bad_fields_send_nothing():
    assert "agenda_concern_ids" not in meeting_form.schedule_body(
        schedule(kind="youth_activity", agenda="c-1"), CHICAGO
    )
    missing = schedule(title="", kind="barbecue")
    assert meeting_form.schedule_body(missing, CHICAGO) is None
    assert missing.errors == {"title": "required", "kind": "invalid"}
    unreadable = schedule(starts_at="tomorrow")
    assert meeting_form.schedule_body(unreadable, CHICAGO) is None and unreadable.errors == {"starts_at": "invalid"}


def test_a_conclusion_leaves_blank_rows_out_and_refuses_a_row_filled_in_part():
    typed = {
        "attendees": "12",
        "summary": "Held",
        "period": "2026-Q4",
        "action_description_0": "Speed checks",
        "action_owner_0": "Officer",
        "action_due_0": "2026-12-31",
        "action_concern_0": "c-1",
        "priority_title_1": "Speeding",
    }
    body = meeting_form.conclusion_body(meeting_form.read_conclusion_form(MultiDict(typed)))
    assert body == {
        "attendees": 12,
        "summary": "Held",
        "actions": [
            {"description": "Speed checks", "owner": "Officer", "due_date": "2026-12-31", "concern_ids": ["c-1"]}
        ],
        "priorities": {"period": "2026-Q4", "items": [{"title": "Speeding", "description": "", "concern_ids": []}]},
    }
    partial = meeting_form.read_conclusion_form(
        MultiDict({"attendees": "a dozen", "action_owner_2": "Me", "priority_description_0": "x"})
    )
    assert meeting_form.conclusion_body(partial) is None
    assert partial.errors == {
        "attendees": "invalid",
        "action_description_2": "required",
        "action_due_2": "required",
        "priority_title_0": "required",
        "period": "required",
    }


def test_concerns_400_details_come_back_as_the_forms_fields():
    details = {
        "actions": {"0": {"owner": ["too long"], "due_date": ["not a date"]}},
        "actions.1.concern_ids": ["unknown: x"],
        "priorities": {"items": {"0": {"title": ["too long"]}}, "period": ["e.g. 2026-Q1"]},
        "agenda_concern_ids": ["not an open concern of RV-02: x"],
        "summary": ["too long"],
    }
    assert meeting_form.api_errors(details) == {
        "action_owner_0": "invalid",
        "action_due_0": "invalid",
        "action_concern_1": "invalid",
        "priority_title_0": "invalid",
        "period": "invalid",
        "agenda": "invalid",
        "summary": "invalid",
    }
    assert meeting_form.api_errors(None) == {}


def test_periods_are_quarters():
    from datetime import date

    assert meeting_form.current_period(date(2026, 12, 3)) == "2026-Q4"
    assert meeting_form.current_period(date(2027, 1, 1)) == "2027-Q1"
