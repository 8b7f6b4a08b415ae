"""The demo city's people, for the development sign-in page (never offered in production).

Their subjects are the ones the services' demo data uses (`beat seed-demo`): residents with
notification preferences, the six beats' officers, the supervisor, the city's administrator (who may
change categories), the two agencies that have demo referrals (`agency_id` as referrals' demo
directory names them) and an analyst.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPerson:
    subject: str
    role: str
    name: str
    agency_id: str | None = None  # agency staff only: the agency whose referrals they see


DEMO_PEOPLE = (
    DemoPerson("resident-demo-1", "resident", "Ana (resident, RV-01)"),
    DemoPerson("resident-demo-2", "resident", "Ben (resident, RV-01 and RV-02)"),
    DemoPerson("resident-demo-3", "resident", "Chloe (resident, RV-04)"),
    *(DemoPerson(f"officer-rv0{n}", "officer", f"Officer of beat RV-0{n}") for n in range(1, 7)),
    DemoPerson("supervisor-1", "supervisor", "Sergeant Ruth Calloway (supervisor)"),
    DemoPerson("admin-1", "admin", "Dana Okafor (city administrator)"),
    DemoPerson("worker@riverton-food-bank", "agency", "Riverton Food Bank (agency)", "agency-riverton-food-bank"),
    DemoPerson("worker@safe-haven", "agency", "Safe Haven Riverton (agency)", "agency-safe-haven"),
    DemoPerson("analyst-1", "analyst", "City analyst"),
)

# Where the roles without concerns of their own go from /me.
HOME_OF_ROLE = {"agency": "/agency/referrals", "analyst": "/"}
# Where each role lands after signing in (the others land on /me): an administrator on the supervisors'
# pages, whose categories they may change (their /me still lists every beat's concerns).
LANDING_OF_ROLE = {**HOME_OF_ROLE, "admin": "/supervisor"}


def demo_person(subject: str) -> DemoPerson | None:
    return next((person for person in DEMO_PEOPLE if person.subject == subject), None)
