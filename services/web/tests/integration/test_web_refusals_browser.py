"""Authorization in the browser matches the APIs' matrix: in Chromium, an anonymous visitor, a
resident, an officer of another beat and a worker of another agency each get a refusal page (403 or
404, in Spanish, axe-core clean) for every staff and agency page about someone else's concern,
referral or meeting; where a page is a list of their own (the other beat's queue and meetings, the
other agency's inbox, report and settings) they get it without the others' entries. concerns, referrals and
web on the test's backend; the forms behind these pages are refused over HTTP in
test_web_officer_console, test_web_officer_meetings, test_web_officer_referrals and test_web_agency_inbox."""

from __future__ import annotations

import pytest
import requests
from integration.test_web_browser import Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from web_testkit import schedule_meeting, sent_referral, sign_in

from web.rendering import translations

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only

PEOPLE = {
    "anonymous": None,
    "resident": "resident-demo-1",
    "officer of another beat": "officer-rv05",
    "another agency": "worker@safe-haven",
}
# The pages each person may open because they list that person's own work (without the others').
OWN_LISTS = {
    "officer of another beat": {"/staff/queue", "/staff/meetings"},
    "another agency": {"/agency/referrals", "/agency/report", "/agency/settings"},
}


def pages(concern_id: str, referral_id: str, meeting_id: str) -> list[str]:
    """Every staff and agency page (GET), about the RV-02 concern, its referral and meeting."""
    return [
        "/staff/queue",
        f"/staff/concerns/{concern_id}",
        f"/staff/concerns/{concern_id}/refer",
        "/staff/meetings",
        "/staff/beats/RV-02/meetings/new",
        f"/staff/meetings/{meeting_id}",
        "/agency/referrals",
        f"/agency/referrals/{referral_id}",
        "/agency/report",
        "/agency/settings",
        "/staff/beats/RV-02/broadcast",
        "/supervisor",
        "/supervisor/assignments",
        "/supervisor/categories",
        "/supervisor/categories/noise",  # the administrator's form
    ]


def browser_as(driver, base: str, subject: str | None) -> Resident:
    """A fresh browser session in Spanish, signed in as `subject` (None: anonymous)."""
    person = Resident(driver, base, "es", scripts=True)
    if subject:
        person.open("/sign-in")
        person.find(f'input[value="{subject}"]').click()
        person.follow(person.find('form[action="/sign-in"] button'))
    return person


def status_of(person: Resident) -> int:
    """The HTTP status of the page the browser is showing (Chromium's navigation timing)."""
    return person.driver.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_staff_and_agency_page_refuses_everyone_else(partners, chrome, who):
    stack, _ = partners
    with requests.Session() as officer:
        assert sign_in(officer, stack.web_url, "officer-rv02").status_code == 200
        concern_id, referral_id = sent_referral(stack.web_url, officer)  # to the food bank, about RV-02
    meeting_id = schedule_meeting(stack.concerns_url)["id"]
    spanish = translations("es")
    refusals = {spanish.gettext("You may not see this"), spanish.gettext("We cannot find that page")}
    person = browser_as(chrome, stack.web_url, PEOPLE[who])
    for path in pages(concern_id, referral_id, meeting_id):
        person.open(path)  # axe-core checks each page as it arrives
        shown = person.find("main").get_attribute("innerHTML")  # the header's language link names the path
        if path in OWN_LISTS.get(who, ()):
            assert status_of(person) == 200, (who, path)
        else:
            assert status_of(person) in (403, 404), (who, path, status_of(person))
            assert person.find("h1").text in refusals, (who, path, person.find("h1").text)
        for someone_elses in (concern_id, referral_id, meeting_id, "Rosa Díaz", "rosa@example.org"):
            assert someone_elses not in shown, (who, path, someone_elses)
    assert len(person.pages_checked) >= len(pages(concern_id, referral_id, meeting_id))
