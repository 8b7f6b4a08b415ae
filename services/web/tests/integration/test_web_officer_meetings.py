"""Meetings in the officer's console over HTTP: scheduling with an agenda chosen from the beat's top
concerns, recording what the meeting agreed, actions tracked to done, the beat page showing them,
form errors beside their fields, and the refusal pages for everyone else (concerns, on the test's
backend, decides who may plan a beat's meetings); and the pages in Chromium, in Spanish without scripts,
axe-core on each, at 360 px."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from integration.test_web_browser import Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_supervisor_browser import fits_a_phone
from web_testkit import csrf, open_receipt, sign_in, voice

from beat_shared.config import env

WHEN = "%Y-%m-%dT%H:%M"


def voiced(base: str, description: str) -> str:
    resident = requests.Session()
    assert voice(resident, base, confirmed="yes", description=description).status_code == 303
    return open_receipt(resident, base)


def officer(base: str, subject: str = "officer-rv02") -> requests.Session:
    browser = requests.Session()
    assert sign_in(browser, base, subject).status_code == 200
    return browser


def city_time(hours_from_now: float) -> str:
    """A `datetime-local` value in the city's time zone, as a browser would send it."""
    return (datetime.now(ZoneInfo(env("WEB_TIMEZONE"))) + timedelta(hours=hours_from_now)).strftime(WHEN)


def meetings_of(stack, beat: str = "RV-02") -> list[dict]:
    answer = requests.get(f"{stack.concerns_url}/beats/{beat}/meetings", params={"when": "all"}, timeout=10)
    return answer.json()["meetings"]


def schedule_form(**overrides) -> dict:
    return {
        "kind": "community_meeting",
        "title": "Downtown beat meeting",
        "venue": "Riverton Public Library",
        "starts_at": city_time(-2),
        "ends_at": city_time(-1),
        "description": "Bring your neighbours.",
        **overrides,
    }


def scheduled(stack, browser: requests.Session, agenda: list[str]) -> str:
    """The officer schedules a meeting (held two hours ago) with this agenda; its id."""
    page = browser.get(f"{stack.web_url}/staff/beats/RV-02/meetings/new", timeout=10).text
    data = {"csrf_token": csrf(page), **schedule_form(), "agenda": agenda}
    made = browser.post(f"{stack.web_url}/staff/beats/RV-02/meetings", data=data, allow_redirects=False, timeout=10)
    assert made.status_code == 303, made.text
    return made.headers["Location"].rsplit("/", 1)[1]


def test_an_officer_schedules_with_a_chosen_agenda_concludes_and_tracks_actions(stack):
    chosen = voiced(stack.web_url, "Cars racing on Main Street")
    left_out = voiced(stack.web_url, "Loud music at night")
    with officer(stack.web_url) as browser:
        listing = browser.get(f"{stack.web_url}/staff/meetings", timeout=10)
        assert listing.status_code == 200 and "/staff/beats/RV-02/meetings/new" in listing.text
        form = browser.get(f"{stack.web_url}/staff/beats/RV-02/meetings/new", timeout=10).text
        offered = re.findall(r'name="agenda" value="([0-9a-f-]{36})" checked', form)
        assert sorted(offered) == sorted([chosen, left_out])  # the whole suggestion, chosen by default
        meeting_id = scheduled(stack, browser, [chosen])
        page = browser.get(f"{stack.web_url}/staff/meetings/{meeting_id}", timeout=10).text
        assert "The meeting was scheduled." in page
        agenda = re.search(r'<ol class="agenda" id="agenda-items">(.*?)</ol>', page, re.S)[1]
        assert chosen in agenda and left_out not in agenda
        conclusion = {
            "csrf_token": csrf(page),
            "attendees": "23",
            "summary": "Racing on Main Street worried everyone.",
            "action_description_0": "Speed checks on Main Street",
            "action_owner_0": "Officer Whitehorse",
            "action_due_0": "2026-12-31",
            "action_concern_0": chosen,
            "period": re.search(r'name="period" type="text" value="([^"]+)"', page)[1],  # this quarter, offered
            "priority_title_0": "Speeding on Main Street",
            "priority_concern_0": chosen,
        }
        done = browser.post(f"{stack.web_url}/staff/meetings/{meeting_id}/conclusion", data=conclusion, timeout=10)
        assert done.status_code == 200, re.findall(r"error-summary.*?</div>", done.text, re.S)
        assert "What the meeting agreed was recorded." in done.text
        assert "Speed checks on Main Street" in done.text and "Speeding on Main Street" in done.text
        [stored] = meetings_of(stack)
        assert stored["status"] == "concluded" and stored["attendees"] == 23
        beat_page = requests.get(f"{stack.web_url}/beats/RV-02", timeout=10).text
        assert "Speeding on Main Street" in beat_page and "Speed checks on Main Street" in beat_page
        [action_id] = re.findall(r'action="/staff/actions/([0-9a-f-]{36})"', done.text)
        back = f"/staff/meetings/{meeting_id}"
        marked = browser.post(
            f"{stack.web_url}/staff/actions/{action_id}",
            data={"csrf_token": csrf(done.text), "status": "done", "back": back},
            timeout=10,
        )
        assert marked.url.endswith(back) and "The action is marked as done." in marked.text
        assert "Open again" in marked.text
        assert "Speed checks on Main Street" not in browser.get(f"{stack.web_url}/staff/meetings", timeout=10).text
        assert "Speed checks on Main Street" not in requests.get(f"{stack.web_url}/beats/RV-02", timeout=10).text
        odd = browser.post(
            f"{stack.web_url}/staff/actions/{action_id}", data={"csrf_token": csrf(done.text), "status": "half"}
        )
        assert odd.status_code == 400 and odd.headers["Content-Type"].startswith("text/html")
        again = browser.post(f"{stack.web_url}/staff/meetings/{meeting_id}/conclusion", data=conclusion, timeout=10)
        assert again.status_code == 409  # a meeting is concluded once


def test_schedule_form_errors_come_back_beside_their_fields_and_nothing_is_made(stack):
    with officer(stack.web_url) as browser:
        token = csrf(browser.get(f"{stack.web_url}/staff/meetings", timeout=10).text)
        url = f"{stack.web_url}/staff/beats/RV-02/meetings"
        missing = browser.post(url, data={"csrf_token": token, **schedule_form(title="", starts_at="")}, timeout=10)
        assert missing.status_code == 400
        assert 'id="title-error"' in missing.text and 'id="starts_at-error"' in missing.text
        assert 'value="Riverton Public Library"' in missing.text  # what was typed stays
        backwards = schedule_form(ends_at=city_time(-3))  # concerns: a meeting ends after it starts
        refused = browser.post(url, data={"csrf_token": token, **backwards}, timeout=10)
        assert refused.status_code == 400 and 'id="ends_at-error"' in refused.text
        elsewhere = voiced(stack.web_url, "Graffiti")  # RV-02's, but named for a training: no agenda there
        training = schedule_form(kind="youth_activity", agenda=[elsewhere])
        made = browser.post(url, data={"csrf_token": token, **training}, allow_redirects=False, timeout=10)
        assert made.status_code == 303  # the agenda is dropped for an activity, not refused
    assert [meeting["kind"] for meeting in meetings_of(stack)] == ["youth_activity"]
    assert meetings_of(stack)[0]["agenda"] == []


def test_a_conclusion_with_a_row_filled_in_part_is_shown_again(stack):
    concern_id = voiced(stack.web_url, "Broken street light")
    with officer(stack.web_url) as browser:
        meeting_id = scheduled(stack, browser, [concern_id])
        page = browser.get(f"{stack.web_url}/staff/meetings/{meeting_id}", timeout=10).text
        partial = {"csrf_token": csrf(page), "summary": "Lights", "action_description_0": "Fix the light"}
        refused = browser.post(f"{stack.web_url}/staff/meetings/{meeting_id}/conclusion", data=partial, timeout=10)
        assert refused.status_code == 400
        assert 'id="action_owner_0-error"' in refused.text and 'id="action_due_0-error"' in refused.text
        assert 'value="Fix the light"' in refused.text
        long_summary = {"csrf_token": csrf(page), "summary": "x" * 8001}  # concerns' limit, beside its field
        too_long = browser.post(
            f"{stack.web_url}/staff/meetings/{meeting_id}/conclusion", data=long_summary, timeout=10
        )
        assert too_long.status_code == 400 and 'id="summary-error"' in too_long.text
    assert meetings_of(stack)[0]["status"] == "scheduled"


def test_everyone_else_gets_a_refusal_page(stack):
    concern_id = voiced(stack.web_url, "Dogs barking")
    with officer(stack.web_url) as browser:
        meeting_id = scheduled(stack, browser, [concern_id])
        page = browser.get(f"{stack.web_url}/staff/meetings/{meeting_id}", timeout=10).text
        conclusion = {
            "summary": "Held",
            "action_description_0": "Talk",
            "action_owner_0": "Me",
            "action_due_0": "2026-12-31",
        }
        browser.post(
            f"{stack.web_url}/staff/meetings/{meeting_id}/conclusion", data={"csrf_token": csrf(page), **conclusion}
        )
    [action] = requests.get(f"{stack.concerns_url}/beats/RV-02/actions", timeout=10).json()["actions"]
    pages = [f"/staff/meetings/{meeting_id}", "/staff/beats/RV-02/meetings/new", "/staff/meetings"]
    posts = {
        "/staff/beats/RV-02/meetings": schedule_form(title="Hola"),
        f"/staff/meetings/{meeting_id}/conclusion": {"summary": "Hola"},
        f"/staff/actions/{action['id']}": {"status": "done"},
    }
    people = {
        "anonymous": None,
        "resident": "resident-demo-1",
        "other beat": "officer-rv05",
        "agency": "worker@riverton-food-bank",
    }
    for who, subject in people.items():
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, stack.web_url, subject)
            token = csrf(browser.get(stack.web_url + "/follow", timeout=10).text)
            answers = [browser.get(stack.web_url + path, timeout=10) for path in pages]
            answers += [
                browser.post(stack.web_url + path, data={"csrf_token": token, **data}, timeout=10)
                for path, data in posts.items()
            ]
        for path, answer in zip(pages + list(posts), answers, strict=True):
            if who == "other beat" and path == "/staff/meetings":
                assert answer.status_code == 200 and meeting_id not in answer.text  # their own beat's meetings
                continue
            assert answer.status_code in (403, 404), (who, path, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
            assert "Hola" not in html.unescape(answer.text)
    [meeting] = meetings_of(stack)  # nobody else scheduled one, and the action is still open
    assert meeting["summary"] == "Held"
    assert (
        requests.get(f"{stack.concerns_url}/beats/RV-02/actions", timeout=10).json()["actions"][0]["status"] == "open"
    )


def test_the_meeting_pages_in_spanish_without_scripts(stack, chrome):
    concern_id = voiced(stack.web_url, "Coches a toda velocidad")
    officer = Resident(chrome, stack.web_url, "es", scripts=False)
    officer.open("/sign-in")
    officer.find('input[value="officer-rv02"]').click()
    officer.follow(officer.find('form[action="/sign-in"] button'))
    officer.open("/staff/meetings")  # axe-core checks each page as it arrives
    fits_a_phone(officer)
    officer.follow(officer.find('a[href="/staff/beats/RV-02/meetings/new"]'))
    assert officer.find(f'input[name="agenda"][value="{concern_id}"]').is_selected()
    officer.find("#title").send_keys("Reunión del sector")
    officer.find("#venue").send_keys("Biblioteca")
    for field, hours in (("starts_at", -2), ("ends_at", -1)):
        officer.driver.execute_script(f"arguments[0].value = '{city_time(hours)}'", officer.find(f"#{field}"))
    fits_a_phone(officer)
    officer.follow(officer.find('form[action="/staff/beats/RV-02/meetings"] button[type="submit"]'))
    assert "La reunión quedó programada." in officer.find(".flash").text
    fits_a_phone(officer)
    officer.find("#action_description_0").send_keys("Controles de velocidad")
    officer.find("#action_owner_0").send_keys("Agente del sector")
    officer.driver.execute_script("arguments[0].value = '2026-12-31'", officer.find("#action_due_0"))
    officer.follow(officer.find('form[action$="/conclusion"] button[type="submit"]'))
    assert "Lo que acordó la reunión quedó registrado." in officer.find(".flash").text
    officer.follow(officer.find('form[action^="/staff/actions/"] button'))
    assert "La acción quedó marcada como hecha." in officer.find(".flash").text
