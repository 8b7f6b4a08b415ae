"""Demo directory: a dozen plausible Riverton agencies with need categories, places and hours.

`seed(session)` is idempotent: ids are UUIDv5s of stable names, and rows that exist
are left alone. Agency ids follow the agreed "agency-<slug>" form.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from referrals.directory import upsert_location, upsert_organization, upsert_service, upsert_taxonomy, upsert_term
from referrals.domain.lifecycle import ACCEPTED, COMPLETED, DECLINED, DRAFT, IN_PROGRESS, SENT
from referrals.models import (
    ConsentRecord,
    Organization,
    Referral,
    ReferralStatusChange,
    Service,
    Taxonomy,
    TaxonomyTerm,
)

DEMO = uuid.UUID("3d4b7d8e-6f0a-4e53-9b59-1c2a0e5d7f42")
TAXONOMY_ID = str(uuid.uuid5(DEMO, "taxonomy:beat-needs"))

NEED_CATEGORIES = {
    "mental_health": ("Mental health", "Crisis support, counselling and psychiatric care."),
    "substance_use": ("Substance use", "Treatment, recovery support and harm reduction for alcohol and drugs."),
    "housing": ("Housing and shelter", "Emergency shelter, rehousing and help to avoid eviction."),
    "food": ("Food", "Food pantries, free meals and help applying for food benefits."),
    "domestic_violence": ("Domestic violence", "Safety planning, shelter and advocacy for people harmed at home."),
    "victim_services": ("Victim services", "Support for victims and witnesses of crime."),
    "youth_programmes": (
        "Youth programmes",
        "Mentoring, activities and outreach that help young people stay away from violence, gangs and drugs.",
    ),
}

WEEKDAYS_9_TO_5 = [{"byday": "MO,TU,WE,TH,FR", "opens_at": "09:00", "closes_at": "17:00"}]
ALWAYS = [{"byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "00:00", "closes_at": "24:00", "description": "24 hours"}]
AFTER_SCHOOL = [{"byday": "MO,TU,WE,TH,FR", "opens_at": "15:00", "closes_at": "20:00"}]

# (slug, name, description, email, phone, language, location, services)
# location: (name, address, postal code, latitude, longitude)
# service: (name, description, needs, schedules, languages, beats, min age, max age, eligibility)
AGENCIES: list[tuple[Any, ...]] = [
    (
        "riverton-food-bank",
        "Riverton Food Bank",
        "The city's food bank: a pantry, mobile pantries and help applying for food benefits.",
        "help@rivertonfoodbank.org",
        "+1 555 0100 200",
        "en",
        ("Riverton Food Bank warehouse", "410 Mill Street", "82501", 43.0092, -108.3827),
        [
            (
                "Emergency food pantry",
                "Three days of groceries, once a week, no documents needed.",
                ["food"],
                [{"byday": "MO,WE,FR", "opens_at": "10:00", "closes_at": "16:00"}],
                ["en", "es"],
                [],
                None,
                None,
                "Anyone living in Riverton.",
            ),
            (
                "Mobile pantry",
                "A truck with fresh food at community centres on the south and west sides.",
                ["food"],
                [{"byday": "TU,TH", "opens_at": "14:00", "closes_at": "18:00"}],
                ["en", "es"],
                ["RV-05", "RV-06"],
                None,
                None,
                "Residents of Southside and the West End.",
            ),
        ],
    ),
    (
        "riverbend-mental-health",
        "Riverbend Community Mental Health Center",
        "Walk-in crisis care and outpatient counselling for adults and families.",
        "intake@riverbendmhc.org",
        "+1 555 0100 310",
        "en",
        ("Riverbend Center", "88 Riverside Drive", "82501", 43.0284, -108.3709),
        [
            (
                "Walk-in crisis counselling",
                "Same-day crisis assessment and counselling, no appointment needed.",
                ["mental_health"],
                ALWAYS,
                ["en", "es"],
                [],
                16,
                None,
                "People aged 16 and over in crisis.",
            ),
            (
                "Outpatient counselling",
                "Weekly counselling for anxiety, depression and trauma; sliding-scale fees.",
                ["mental_health"],
                WEEKDAYS_9_TO_5,
                ["en"],
                [],
                18,
                None,
                "Adults; Medicaid and uninsured welcome.",
            ),
        ],
    ),
    (
        "harbor-recovery",
        "Harbor Recovery Services",
        "Outpatient treatment and peer recovery support for alcohol and drug use.",
        "referrals@harborrecovery.org",
        "+1 555 0100 420",
        "en",
        ("Harbor Recovery clinic", "1200 Eastgate Avenue", "82501", 43.0183, -108.3463),
        [
            (
                "Recovery outpatient programme",
                "Assessment, medication for opioid use disorder and group therapy.",
                ["substance_use"],
                WEEKDAYS_9_TO_5,
                ["en"],
                [],
                18,
                None,
                "Adults who use alcohol or drugs.",
            ),
            (
                "Peer recovery coaching",
                "A coach with lived experience who meets people where they are.",
                ["substance_use"],
                [{"byday": "MO,TU,WE,TH,FR,SA", "opens_at": "08:00", "closes_at": "20:00"}],
                ["en", "es"],
                [],
                16,
                None,
                "Anyone 16 or over who wants support.",
            ),
        ],
    ),
    (
        "safe-haven",
        "Safe Haven Riverton",
        "Shelter, hotline and advocacy for people experiencing domestic violence.",
        "advocates@safehavenriverton.org",
        "+1 555 0100 530",
        "en",
        ("Safe Haven outreach office", "25 Court Street", "82501", 43.0326, -108.3758),
        [
            (
                "Emergency shelter and hotline",
                "Confidential shelter and a 24-hour hotline; safety planning.",
                ["domestic_violence", "housing"],
                ALWAYS,
                ["en", "es"],
                [],
                None,
                None,
                "Anyone harmed by a partner or family member, and their children.",
            ),
            (
                "Legal advocacy",
                "Help with protection orders and court accompaniment.",
                ["domestic_violence", "victim_services"],
                WEEKDAYS_9_TO_5,
                ["en", "es"],
                [],
                18,
                None,
                "Adults seeking protection orders.",
            ),
        ],
    ),
    (
        "riverton-housing-coalition",
        "Riverton Housing Coalition",
        "Rapid rehousing, eviction prevention and landlord mediation.",
        "housing@rivertonhc.org",
        "+1 555 0100 640",
        "en",
        ("Housing Coalition office", "300 Main Street, Suite 4", "82501", 43.0305, -108.3786),
        [
            (
                "Eviction prevention",
                "Emergency rent help and mediation with landlords.",
                ["housing"],
                WEEKDAYS_9_TO_5,
                ["en", "es"],
                [],
                18,
                None,
                "Tenants in Riverton facing eviction.",
            ),
            (
                "Rapid rehousing",
                "Help finding a home and short-term rent support for people who are homeless.",
                ["housing"],
                WEEKDAYS_9_TO_5,
                ["en"],
                [],
                18,
                None,
                "Adults experiencing homelessness.",
            ),
        ],
    ),
    (
        "st-brigids-shelter",
        "St. Brigid's Night Shelter",
        "A night shelter with an evening meal, showers and case workers.",
        "office@stbrigids-riverton.org",
        "+1 555 0100 750",
        "en",
        ("St. Brigid's", "7 Church Lane", "82501", 43.0404, -108.3921),
        [
            (
                "Night shelter",
                "Beds from 7 pm to 8 am, evening meal and breakfast.",
                ["housing", "food"],
                [{"byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "19:00", "closes_at": "23:59"}],
                ["en"],
                [],
                18,
                None,
                "Adults without a safe place to sleep.",
            ),
        ],
    ),
    (
        "victim-support-riverton",
        "Victim Support Riverton",
        "Free, confidential support for victims and witnesses of crime.",
        "support@victimsupportriverton.org",
        "+1 555 0100 860",
        "en",
        ("Victim Support office", "150 Market Square", "82501", 43.0295, -108.3739),
        [
            (
                "Victim and witness support",
                "Emotional support, practical help and help with compensation claims.",
                ["victim_services"],
                WEEKDAYS_9_TO_5,
                ["en", "es", "vi"],
                [],
                None,
                None,
                "Anyone affected by crime, reported or not.",
            ),
        ],
    ),
    (
        "eastgate-youth-alliance",
        "Eastgate Youth Alliance",
        "After-school mentoring, sport and job skills for young people in Eastgate.",
        "hello@eastgateyouth.org",
        "+1 555 0100 970",
        "en",
        ("Eastgate Youth Centre", "52 Eastgate Avenue", "82501", 43.0168, -108.3493),
        [
            (
                "Youth mentoring",
                "One-to-one mentors who help young people stay in school and away from gangs.",
                ["youth_programmes"],
                AFTER_SCHOOL,
                ["en", "es"],
                ["RV-04"],
                11,
                18,
                "Young people aged 11 to 18.",
            ),
        ],
    ),
    (
        "riverton-safe-streets",
        "Riverton Safe Streets",
        "Violence interruption: outreach workers who mediate conflicts and mentor young people at risk.",
        "outreach@rivertonsafestreets.org",
        "+1 555 0101 080",
        "en",
        ("Safe Streets hub", "19 Southside Boulevard", "82501", 43.0083, -108.3805),
        [
            (
                "Violence interruption and outreach",
                "Credible messengers who defuse conflicts and offer a way out.",
                ["youth_programmes", "victim_services"],
                [{"byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "12:00", "closes_at": "24:00"}],
                ["en", "es"],
                ["RV-01", "RV-05"],
                14,
                24,
                "Young people aged 14 to 24 involved in or affected by violence.",
            ),
        ],
    ),
    (
        "north-hill-boys-girls-club",
        "North Hill Boys & Girls Club",
        "Safe after-school place with homework help, sport and arts.",
        "club@northhillbgc.org",
        "+1 555 0101 190",
        "en",
        ("North Hill Club", "230 Hilltop Road", "82501", 43.0524, -108.3649),
        [
            (
                "After-school club",
                "Homework help, sport, arts and a hot meal.",
                ["youth_programmes", "food"],
                AFTER_SCHOOL,
                ["en"],
                ["RV-03"],
                6,
                18,
                "Children and teenagers aged 6 to 18.",
            ),
        ],
    ),
    (
        "centro-familiar-latino",
        "Centro Familiar Latino",
        "Servicios en español: counselling, family support and advocacy for Spanish-speaking families.",
        "ayuda@centrofamiliar.org",
        "+1 555 0101 200",
        "es",
        ("Centro Familiar", "901 West End Avenue", "82501", 43.0313, -108.4129),
        [
            (
                "Consejería familiar",
                "Counselling for individuals and families, in Spanish.",
                ["mental_health", "domestic_violence"],
                WEEKDAYS_9_TO_5,
                ["es", "en"],
                [],
                None,
                None,
                "Spanish-speaking individuals and families.",
            ),
            (
                "Apoyo a víctimas",
                "Support and advocacy for Spanish-speaking victims of crime.",
                ["victim_services"],
                WEEKDAYS_9_TO_5,
                ["es"],
                [],
                None,
                None,
                "Spanish-speaking victims and witnesses.",
            ),
        ],
    ),
    (
        "riverton-senior-services",
        "Riverton Senior Services",
        "Meals on wheels, wellbeing checks and counselling for older residents.",
        "info@rivertonseniors.org",
        "+1 555 0101 310",
        "en",
        ("Senior Centre", "44 Elm Street", "82501", 43.0418, -108.3941),
        [
            (
                "Meals on wheels",
                "A hot meal delivered on weekdays, with a wellbeing check.",
                ["food"],
                WEEKDAYS_9_TO_5,
                ["en"],
                [],
                60,
                None,
                "Residents aged 60 and over who cannot easily shop or cook.",
            ),
            (
                "Older adults counselling",
                "Counselling for loneliness, grief and low mood.",
                ["mental_health"],
                WEEKDAYS_9_TO_5,
                ["en"],
                [],
                60,
                None,
                "Residents aged 60 and over.",
            ),
        ],
    ),
]


def _id(kind: str, name: str) -> str:
    return str(uuid.uuid5(DEMO, f"{kind}:{name}"))


def seed(session: Session, now: datetime | None = None) -> str:
    """The demo (`beat seed-demo`): the directory and a few referrals in every state an agency meets;
    rows already present are left as they are."""
    summary = seed_directory(session)
    session.flush()
    now = now or datetime.now(UTC)
    referrals = sum(_seed_referral(session, referral, now) for referral in DEMO_REFERRALS)
    return f"{summary}; {referrals} demo referrals added"


def seed_directory(session: Session) -> str:
    """Load the demo directory alone (what tests of the referral flows start from)."""
    now = datetime.now(UTC)
    added = {"terms": 0, "organizations": 0, "services": 0}
    if session.get(Taxonomy, TAXONOMY_ID) is None:
        upsert_taxonomy(
            session,
            {
                "id": TAXONOMY_ID,
                "name": "Beat need categories",
                "description": "The needs Riverton's community officers refer people for.",
                "version": "1",
            },
        )
        session.flush()
    term_ids = {}
    for code, (name, description) in NEED_CATEGORIES.items():
        term_ids[code] = _id("term", code)
        if session.get(TaxonomyTerm, term_ids[code]) is None:
            upsert_term(
                session,
                {
                    "id": term_ids[code],
                    "code": code,
                    "name": name,
                    "description": description,
                    "taxonomy_id": TAXONOMY_ID,
                    "language": "en",
                },
            )
            added["terms"] += 1
    session.flush()
    for slug, name, description, email, phone, language, place, services in AGENCIES:
        organization_id = _id("organization", slug)
        if session.get(Organization, organization_id) is None:
            upsert_organization(
                session,
                {
                    "id": organization_id,
                    "agency_id": f"agency-{slug}",
                    "name": name,
                    "description": description,
                    "email": email,
                    "website": f"https://{email.split('@')[1]}",
                    "language": language,
                    "phones": [{"id": _id("phone", slug), "number": phone, "type": "voice"}],
                },
                now,
            )
            added["organizations"] += 1
        location_id = _id("location", slug)
        location_name, address, postal_code, latitude, longitude = place
        upsert_location(
            session,
            {
                "id": location_id,
                "organization_id": organization_id,
                "location_type": "physical",
                "name": location_name,
                "latitude": latitude,
                "longitude": longitude,
                "address_1": address,
                "city": "Riverton",
                "state_province": "WY",
                "postal_code": postal_code,
                "country": "US",
            },
        )
        session.flush()
        for service in services:
            added["services"] += _seed_service(session, organization_id, location_id, term_ids, service, now)
    return (
        f"{added['organizations']} agencies, {added['services']} services and {added['terms']} need categories added "
        f"({len(AGENCIES)} agencies in the demo directory)"
    )


@dataclass(frozen=True)
class DemoReferral:
    """A referral as it would stand after officers and the agency worked on it (no events: it is history)."""

    name: str  # the demo client (invented) and the referral's stable id
    agency_slug: str
    service_name: str
    need_category: str
    beat_code: str
    path: tuple[str, ...]  # the statuses it went through after draft
    days_ago: int  # when it was drafted
    outcome: str | None = None
    decline_reason: str | None = None


# A few referrals in every state an agency meets, so its list and the outcomes report are not empty.
DEMO_REFERRALS = (
    DemoReferral("Alex Demo", "riverton-food-bank", "Emergency food pantry", "food", "RV-01", (SENT,), 0),
    DemoReferral("Bo Demo", "riverton-food-bank", "Mobile pantry", "food", "RV-05", (SENT, ACCEPTED), 3),
    DemoReferral(
        "Cy Demo", "riverton-food-bank", "Emergency food pantry", "food", "RV-02", (SENT, ACCEPTED, IN_PROGRESS), 6
    ),
    DemoReferral(
        "Dee Demo",
        "riverton-food-bank",
        "Emergency food pantry",
        "food",
        "RV-03",
        (SENT, ACCEPTED, IN_PROGRESS, COMPLETED),
        20,
        outcome="got_help",
    ),
    DemoReferral(
        "Eli Demo",
        "riverton-food-bank",
        "Mobile pantry",
        "food",
        "RV-06",
        (SENT, ACCEPTED, COMPLETED),
        15,
        outcome="could_not_contact",
    ),
    DemoReferral(
        "Fay Demo",
        "riverton-food-bank",
        "Emergency food pantry",
        "food",
        "RV-04",
        (SENT, DECLINED),
        9,
        decline_reason="no_capacity",
    ),
    DemoReferral("Gus Demo", "safe-haven", "Emergency shelter and hotline", "housing", "RV-02", (SENT,), 1),
    DemoReferral(
        "Hal Demo",
        "safe-haven",
        "Legal advocacy",
        "domestic_violence",
        "RV-05",
        (SENT, ACCEPTED, IN_PROGRESS, COMPLETED),
        25,
        outcome="got_help",
    ),
    DemoReferral(
        "Ida Demo",
        "safe-haven",
        "Emergency shelter and hotline",
        "housing",
        "RV-01",
        (SENT, DECLINED),
        12,
        decline_reason="not_eligible",
    ),
)


def _seed_referral(session: Session, demo: DemoReferral, now: datetime) -> int:
    referral_id = _id("referral", demo.name)
    if session.get(Referral, referral_id) is not None:
        return 0
    organization_id = _id("organization", demo.agency_slug)
    agency_id = f"agency-{demo.agency_slug}"
    created = now - timedelta(days=demo.days_ago, hours=2)
    consent = ConsentRecord(
        id=_id("consent", demo.name),
        agency_id=agency_id,
        given_by=f"{demo.name} (client)",
        given_at=created,
        method="verbal",
        scope=f"share name and phone with {demo.service_name} for {demo.need_category}",
        valid_until=created + timedelta(days=90),
        recorded_by="officer-rv01",
        recorded_at=created,
    )
    referral = Referral(
        id=referral_id,
        agency_id=agency_id,
        service_id=_id("service", f"{organization_id}:{demo.service_name}"),
        need_category=demo.need_category,
        urgency="routine",
        status=DRAFT,
        beat_code=demo.beat_code,
        created_by="officer-rv01",
        consent_id=consent.id,
        client_name=demo.name,
        client_phone="+1 555 0100 000",
        client_language="en",
        created_at=created,
        updated_at=created,
    )
    referral.history.append(
        ReferralStatusChange(from_status=None, to_status=DRAFT, changed_by="officer-rv01", changed_at=created)
    )
    session.add_all([consent, referral])
    _walk(referral, demo, created, agency_id)
    return 1


def _walk(referral: Referral, demo: DemoReferral, created: datetime, agency_id: str) -> None:
    """Move the demo referral along its path, an hour (then a day) per step, as the lifecycle would."""
    moment = created
    for target in demo.path:
        moment += timedelta(hours=1) if target == SENT else timedelta(days=1)
        by = "officer-rv01" if target == SENT else f"worker@{agency_id}"
        referral.history.append(
            ReferralStatusChange(from_status=referral.status, to_status=target, changed_by=by, changed_at=moment)
        )
        referral.status = target
        referral.updated_at = moment
        if target == SENT:
            referral.sent_at, referral.respond_by = moment, moment + timedelta(hours=48)
        elif target == ACCEPTED:
            referral.accepted_at = moment
        elif target in (COMPLETED, DECLINED):
            referral.closed_at = moment
    referral.outcome = demo.outcome
    referral.decline_reason = demo.decline_reason


def _seed_service(
    session: Session,
    organization_id: str,
    location_id: str,
    term_ids: dict[str, str],
    service: tuple[Any, ...],
    now: datetime,
) -> int:
    name, description, needs, schedules, languages, beats, minimum_age, maximum_age, eligibility = service
    service_id = _id("service", f"{organization_id}:{name}")
    if session.get(Service, service_id) is not None:
        return 0
    upsert_service(
        session,
        {
            "id": service_id,
            "organization_id": organization_id,
            "name": name,
            "description": description,
            "status": "active",
            "eligibility_description": eligibility,
            "minimum_age": minimum_age,
            "maximum_age": maximum_age,
            "taxonomy_term_ids": [term_ids[need] for need in needs],
            "schedules": [{"id": _id("schedule", f"{service_id}:{i}"), **s} for i, s in enumerate(schedules)],
            "languages": [{"id": _id("language", f"{service_id}:{c}"), "code": c} for c in languages],
            "service_areas": [
                {
                    "id": _id("area", f"{service_id}:{b}"),
                    "name": f"Beat {b}",
                    "beat_code": b,
                    "description": f"Riverton police beat {b}",
                }
                for b in beats
            ]
            or [{"id": _id("area", f"{service_id}:city"), "name": "City of Riverton"}],
            "location_ids": [location_id],
        },
        now,
    )
    return 1
