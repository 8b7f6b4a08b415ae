"""Demo data for Riverton: categories, six beats, their officers, concerns in every state, meetings.

`beat seed-demo` runs `seed`; running it twice adds nothing. Demo rows are written directly,
without events: the other services seed their own demo data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from concerns import commands, problem_commands, tip_commands
from concerns.domain.problems import Stage
from concerns.domain.workflow import Actor, Status
from concerns.models import Beat, Category, Concern, Meeting, Officer, Problem
from concerns.settings import Settings

DEMO_DEVICE = "beat-demo-seed"
OFFICERS = [
    ("officer-rv01", "Officer Maria Delgado", "RV-01"),
    ("officer-rv02", "Officer James Whitehorse", "RV-02"),
    ("officer-rv03", "Officer Aisha Okafor", "RV-03"),
    ("officer-rv04", "Officer Tom Brennan", "RV-04"),
    ("officer-rv05", "Officer Lucía Romero", "RV-05"),
    ("officer-rv06", "Officer Daniel Park", "RV-06"),
]
BEAT_CODES = [f"RV-0{n}" for n in range(1, 7)]

# (category, description, lat, long, days ago, supporters, path through the workflow)
CONCERNS: list[tuple[str, str, float, float, int, int, list[str]]] = [
    ("speeding_traffic", "Cars race down Main Street after 10pm most weekends.", 43.0405, -108.381, 20, 4, []),
    (
        "drug_activity",
        "Dealing near the bus shelter on Station Road in the evenings.",
        43.0452,
        -108.375,
        12,
        2,
        ["acknowledged", "in_progress"],
    ),
    (
        "street_lighting",
        "Three lamps out on the path behind the library; it is pitch dark.",
        43.0431,
        -108.388,
        35,
        1,
        ["acknowledged", "in_progress", "resolved"],
    ),
    (
        "noise",
        "Loud music from the car park of the old cinema every Friday.",
        43.0497,
        -108.410,
        6,
        0,
        ["acknowledged"],
    ),
    (
        "vandalism_graffiti",
        "Graffiti on the underpass by the river, getting worse.",
        43.0181,
        -108.408,
        15,
        3,
        ["acknowledged", "resolved"],
    ),
    (
        "youth_gang_activity",
        "Teenagers hanging around the skate park worried about older lads recruiting.",
        43.0102,
        -108.380,
        9,
        1,
        ["acknowledged", "referred"],
    ),
    (
        "abandoned_vehicle_property",
        "A burnt-out van has been on Parkview Close for a month.",
        43.0151,
        -108.352,
        4,
        0,
        [],
    ),
    (
        "suspicious_activity",
        "Someone trying car door handles on Eastgate Avenue at night.",
        43.0480,
        -108.350,
        2,
        0,
        [],
    ),
    (
        "loitering_disorder",
        "Drinking and shouting outside the off-licence on Mill Lane.",
        43.0530,
        -108.405,
        25,
        0,
        ["acknowledged", "closed_not_resolved"],
    ),
    ("speeding_traffic", "Lorries speed past Southfield High at school run time.", 43.0080, -108.384, 1, 0, []),
]


def seed(session: Session, now: datetime | None = None) -> str:
    """Load the Riverton demo; idempotent. Returns a one-line summary."""
    now = now or datetime.now(UTC)
    added = seed_reference(session, now)
    added |= {"concerns": 0, "meetings": 0, "problems": 0}
    if session.scalars(select(Concern.id).where(Concern.device_id == DEMO_DEVICE)).first() is None:
        _seed_concerns(session, Settings.from_config({}), now, added)
    if session.scalars(select(Meeting.id)).first() is None:
        _seed_meetings(session, now, added)
    if session.scalars(select(Problem.id)).first() is None:
        _seed_problem_and_tip(session, now, added)
    if not any(added.values()):
        return "demo data already present (10 categories, 6 beats, 7 officers, concerns, meetings)"
    return ", ".join(f"{count} {name}" for name, count in added.items()) + " added"


def seed_reference(session: Session, now: datetime) -> dict[str, int]:
    """The categories, the six beats and their officers (what tests build on too)."""
    added = {"categories": 0, "beats": 0, "officers": 0}
    for body in demo_categories():
        existing = session.get(Category, body["code"])
        if existing is None:
            commands.save_category(session, now, body)
            added["categories"] += 1
        elif not existing.translations:  # seeded before categories had translations
            existing.translations, existing.updated_at = body["translations"], now
    if session.get(Beat, "RV-01") is None:
        added["beats"] = len(commands.import_beats(session, now, beats_geojson())["imported"])
    _seed_officers(session, now, added)
    return added


def demo_categories() -> list[dict[str, Any]]:
    """The ten demo categories (Open311 service definitions) with Riverton's Spanish words for them
    (a city gives its own through PUT /categories/{code})."""
    return _packaged("data/demo_categories.json")


def beats_geojson() -> dict[str, Any]:
    """The six Riverton beats shipped with the package."""
    return _packaged("data/riverton_beats.geojson")


def _packaged(path: str) -> Any:
    return json.loads(resources.files("concerns").joinpath(path).read_text("utf-8"))


def _seed_officers(session: Session, now: datetime, added: dict[str, int]) -> None:
    for subject, name, beat_code in OFFICERS:
        if session.get(Officer, subject) is None:
            commands.save_officer(
                session,
                {
                    "subject": subject,
                    "name": name,
                    "role": "officer",
                    "title": "Community police officer",
                    "email": f"{subject}@riverton.example",
                    "phone": f"+1 555 02{beat_code[-2:]}",
                    "photo_url": f"https://riverton.example/photos/{subject}.jpg",
                    "bio": f"Your community police officer for beat {beat_code}. Stop me for a chat any time.",
                },
            )
            commands.assign(session, now, beat_code, subject)
            added["officers"] += 1
    if session.get(Officer, "supervisor-1") is None:
        commands.save_officer(
            session,
            {
                "subject": "supervisor-1",
                "name": "Sergeant Ruth Calloway",
                "role": "supervisor",
                "title": "Neighbourhood policing sergeant",
                "email": "supervisor-1@riverton.example",
                "phone": "+1 555 0200",
                "photo_url": "https://riverton.example/photos/supervisor-1.jpg",
            },
        )
        for beat_code in BEAT_CODES:
            commands.assign(session, now, beat_code, "supervisor-1")
        added["officers"] += 1


def _ignore(*_: Any) -> None:
    """Demo rows are not announced (see the module docstring)."""


def _seed_concerns(session: Session, settings: Settings, now: datetime, added: dict[str, int]) -> None:
    supervisor = Actor("supervisor-1", "supervisor")
    for number, (category, text, lat, long, days_ago, supporters, path) in enumerate(CONCERNS):
        submitted = now - timedelta(days=days_ago, hours=number)
        with_contact = number % 2 == 0
        result = commands.submit(
            session,
            settings,
            submitted,
            _ignore,
            commands.Submission(
                category=category,
                description=text,
                lat=lat,
                long=long,
                name="Pat Resident" if with_contact else None,
                email=f"resident{number}@example.org" if with_contact else None,
                device_id=DEMO_DEVICE,
            ),
        )
        concern = result.concern
        for supporter in range(supporters):
            commands.support(
                session, submitted + timedelta(hours=supporter + 1), _ignore, concern.id, f"demo:{supporter}"
            )
        moment = submitted
        for step in path:
            moment += timedelta(hours=18)
            note = _NOTES.get(step)
            change = commands.Change(Status(step), concern.version, public_note=note)
            commands.transition(session, moment, _ignore, concern.id, supervisor, change)
        added["concerns"] += 1
    commands.mark_overdue(session, now, _ignore)


_NOTES = {
    "acknowledged": "Thank you for telling us. Your beat officer has this and will look into it.",
    "in_progress": "We have stepped up patrols at the times you described.",
    "resolved": "Fixed: thank you, this would not have been found without you.",
    "referred": "We have asked the youth outreach team to work with us on this.",
    "closed_not_resolved": "We could not act on this one; please tell us if it happens again.",
}


def _schedule(session: Session, scheduled_at: datetime, officer: Actor, details: dict[str, Any]) -> Meeting:
    """A meeting of the officer's one beat, as the officer scheduled it at `scheduled_at`."""
    (beat_code,) = officer.beat_codes
    return commands.schedule_meeting(session, scheduled_at, _ignore, officer, beat_code, details)


def _seed_meetings(session: Session, now: datetime, added: dict[str, int]) -> None:
    officer = Actor("officer-rv02", "officer", frozenset({"RV-02"}))
    watch = Actor("officer-rv04", "officer", frozenset({"RV-04"}))
    evening = datetime.combine((now + timedelta(days=10)).date(), time(18, 30), tzinfo=UTC)
    saturday = datetime.combine((now + timedelta(days=5)).date(), time(10, 0), tzinfo=UTC)
    past = datetime.combine((now - timedelta(days=14)).date(), time(18, 30), tzinfo=UTC)
    downtown = {"kind": "community_meeting", "venue": "Riverton Public Library, community room"}
    _schedule(
        session,
        now,
        officer,
        {
            **downtown,
            "title": "Downtown beat meeting",
            "description": "Meet Officer Whitehorse, hear what was done since last time and agree the next priorities.",
            "starts_at": evening,
            "ends_at": evening + timedelta(hours=2),
        },
    )
    _schedule(
        session,
        now,
        watch,
        {
            "kind": "neighbourhood_watch",
            "title": "Riverside neighbourhood watch: getting started",
            "venue": "Riverside community hall",
            "starts_at": saturday,
            "ends_at": saturday + timedelta(hours=1, minutes=30),
        },
    )
    meeting = _schedule(
        session,
        past - timedelta(days=14),
        officer,
        {
            **downtown,
            "title": "Downtown beat meeting (last month)",
            "starts_at": past,
            "ends_at": past + timedelta(hours=2),
        },
    )
    linked = [item["concern_id"] for item in meeting.agenda[:2]]
    commands.conclude_meeting(
        session,
        past + timedelta(hours=2),
        _ignore,
        officer,
        meeting.id,
        {
            "attendees": 23,
            "summary": "Residents raised speeding on Main Street and dealing near Station Road.",
            "actions": [
                {
                    "description": "Speed checks on Main Street on Friday and Saturday nights",
                    "owner": "Officer James Whitehorse",
                    "due_date": (now + timedelta(days=7)).date(),
                    "concern_ids": linked[:1],
                },
                {
                    "description": "Ask the council to trim the hedges and light the bus shelter",
                    "owner": "Downtown residents' association",
                    "due_date": (now + timedelta(days=21)).date(),
                    "concern_ids": linked[1:2],
                },
            ],
            "priorities": {
                "period": commands.current_period(now.date()),
                "items": [
                    {"title": "Speeding on Main Street", "concern_ids": linked[:1]},
                    {"title": "Dealing near the station", "concern_ids": linked[1:2]},
                ],
            },
        },
    )
    added["meetings"] += 3


def _seed_problem_and_tip(session: Session, now: datetime, added: dict[str, int]) -> None:
    """A problem being analysed at Station Road (RV-02), and a tip its officers can link to it."""
    station = session.scalars(
        select(Concern.id).where(Concern.device_id == DEMO_DEVICE, Concern.category_code == "drug_activity")
    ).first()
    if station is None:
        return
    officer = Actor("officer-rv02", "officer", frozenset({"RV-02"}))
    body = {
        "beat_code": "RV-02",
        "title": "Dealing around the Station Road bus shelter",
        "summary": "Residents report dealing near the bus shelter in the evenings; we are working on it with them.",
        "categories": ["drug_activity"],
        "centre": {"lat": 43.0452, "long": -108.375},
        "radius_metres": 150,
        "concern_ids": [station],
        "origin": "manual",
    }
    problem = problem_commands.open_problem(session, now, _ignore, officer, body)
    problem_commands.move(session, now, _ignore, officer, problem.id, Stage.ANALYSIS)
    note = {"side": "place", "party": "", "text": "The shelter's light is broken and the hedge hides it from the road."}
    problem_commands.add_note(session, now, officer, problem.id, note)
    tip = {"beat_code": "RV-02", "text": "A grey car waits by the shelter around 9pm.", "language": "en"}
    tip_commands.receive(session, Settings.from_config({}), now, tip)
    added["problems"] += 1
