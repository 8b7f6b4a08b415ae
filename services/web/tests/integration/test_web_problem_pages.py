"""Problem solving and tips in the web pages over HTTP (issue 26), on both backends: an officer opens
a problem from a scanning candidate, works it (a note, a plan action, stage moves), sees the
assessment's figures and closes it; a problem opened by hand gets a concern linked; the public page
and the beat page show it without personal data; a resident gives a tip that the officer reads and
links; form errors come back beside their fields; everyone else gets a refusal page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from web_testkit import CONSENT, csrf, open_receipt, sent_referral, sign_in, staff_headers, voice

from beat_shared.clock import FrozenClock
from beat_shared.testing import wait_for
from surveys.domain.periods import quarter_of

ID = r"([0-9a-f-]{36})"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def problem_stack(start_stack, clock):
    concerns = {"CONCERNS_RATE_PER_ADDRESS": "1000/3600", "BEAT_CLOCK": clock, "CONCERNS_PROBLEM_MIN_CONCERNS": "3"}
    return start_stack(concerns=concerns, web={})


def voiced(base: str, description: str) -> str:
    resident = requests.Session()
    assert voice(resident, base, confirmed="yes", description=description).status_code == 303
    return open_receipt(resident, base)


def officer(base: str, subject: str = "officer-rv02") -> requests.Session:
    browser = requests.Session()
    assert sign_in(browser, base, subject).status_code == 200
    return browser


def agreed_action(concerns_url: str, description: str) -> str:
    """A community meeting held two hours ago agreed an action (supervisor, concerns API); its id."""
    now = datetime.now(UTC).replace(microsecond=0)
    times = {"starts_at": (now - timedelta(hours=2)).isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()}
    body = {"kind": "community_meeting", "title": "Beat meeting", "venue": "Library", **times}
    made = requests.post(f"{concerns_url}/beats/RV-02/meetings", json=body, headers=staff_headers(), timeout=10)
    assert made.status_code == 201, made.text
    action = {"description": description, "owner": "Residents' group", "due_date": "2027-02-01"}
    url = f"{concerns_url}/meetings/{made.json()['id']}/conclusion"
    concluded = requests.post(url, json={"actions": [action]}, headers=staff_headers(), timeout=10)
    assert concluded.status_code == 200, concluded.text
    return concluded.json()["actions"][0]["id"]


def post(browser: requests.Session, url: str, page: str, **data) -> requests.Response:
    return browser.post(url, data={"csrf_token": csrf(page), **data}, allow_redirects=False, timeout=10)


def test_an_officer_works_a_problem_from_candidate_to_closed(problem_stack, clock):
    web = problem_stack.web_url
    concern_ids = [voiced(web, f"Loud music again, night {night}") for night in range(3)]
    with officer(web) as browser:
        listing = browser.get(f"{web}/staff/problems", timeout=10)
        assert listing.status_code == 200 and "Suggested by the data" in listing.text
        candidate = re.search(r'name="candidate" value="([^"]+)"', listing.text)[1]
        assert sorted(candidate.split(",")) == sorted(concern_ids)
        opened = post(browser, f"{web}/staff/beats/RV-02/problems", listing.text, candidate=candidate)
        assert opened.status_code == 303, opened.text
        problem_id = re.search(ID, opened.headers["Location"])[1]
        url = f"{web}/staff/problems/{problem_id}"
        page = browser.get(url, timeout=10).text
        assert "The problem was opened." in page and "Concerns: 3" in page and "By hour (America/Chicago)" in page
        assert all(f"/staff/concerns/{concern_id}" in page for concern_id in concern_ids)
        again = post(browser, f"{web}/staff/beats/RV-02/problems", listing.text, candidate=candidate)
        assert again.status_code == 409  # scanning no longer proposes linked concerns

        empty = post(browser, f"{url}/notes", page, side="place", text="")
        assert empty.status_code == 400 and 'id="text-error"' in empty.text and 'aria-invalid="true"' in empty.text
        assert (
            post(browser, f"{url}/notes", page, side="place", party="landlord", text="Flat 3 hosts parties").status_code
            == 303
        )
        bad_date = post(
            browser, f"{url}/actions", page, description="Visit", owner="PC Lee", owner_kind="officer", due_date="soon"
        )
        assert (
            bad_date.status_code == 400 and 'id="due_date-error"' in bad_date.text and 'value="Visit"' in bad_date.text
        )
        plan = {
            "description": "Talk to the landlord",
            "owner": "PC Lee",
            "owner_kind": "officer",
            "due_date": "2027-01-15",
        }
        assert post(browser, f"{url}/actions", page, **plan).status_code == 303
        for stage in ("analysis", "response"):
            assert post(browser, f"{url}/stage", page, stage=stage).status_code == 303
        assert post(browser, f"{url}/stage", page, stage="closed").status_code == 400  # only the assessment closes
        clock.advance(days=10)
        assert post(browser, f"{url}/stage", page, stage="assessment").status_code == 303
        waiting = browser.get(url, timeout=10).text
        assert "a week must pass after the response ended" in waiting
        clock.advance(days=8)
        ready = browser.get(url, timeout=10).text
        assert "The problem's area" in ready and "Exact binomial test" in ready
        assert "The survey results cannot be shown just now." in ready  # surveys is down: the figures still show
        assert post(browser, f"{url}/assessment", ready, outcome="").status_code == 400
        closed = post(browser, f"{url}/assessment", ready, outcome="solved")
        assert closed.status_code == 303
        final = browser.get(url, timeout=10).text
        assert 'id="problem-outcome">Solved' in final and "Close the problem" not in final

    public = requests.get(f"{web}/problems/{problem_id}", timeout=10)
    assert public.status_code == 200 and "Solved" in public.text and "Talk to the landlord" in public.text
    assert "PC Lee" not in public.text and "Flat 3 hosts parties" not in public.text  # no names, no notes
    assert "The survey results cannot be shown just now." in public.text
    assert all(concern_id not in public.text for concern_id in concern_ids)
    beat = requests.get(f"{web}/beats/RV-02", timeout=10).text
    assert f"/problems/{problem_id}" in beat and "/beats/RV-02/tip" in beat
    tally = re.search(r'id="problem-counts">(.*?)</p>', beat)[1]  # the solved one counts while it is recent
    assert "Being worked on now: 0" in tally and re.search(r"Solved since .+: 1 of 1 closed", tally)
    es_beat = requests.get(f"{web}/beats/RV-02", headers={"Accept-Language": "es"}, timeout=10).text
    assert "En curso ahora: 0" in es_beat and "1 de 1 cerrados" in es_beat
    spanish = requests.get(f"{web}/problems/{problem_id}", headers={"Accept-Language": "es"}, timeout=10).text
    assert "Resuelto" in spanish
    assert requests.get(f"{web}/problems/no-such-problem", timeout=10).status_code == 404


def test_a_problem_opened_by_hand_gets_a_concern_and_a_tip(problem_stack):
    web = problem_stack.web_url
    concern_id = voiced(web, "Music from the corner shop")
    resident = requests.Session()
    form = resident.get(f"{web}/beats/RV-02/tip", timeout=10)
    assert form.status_code == 200 and "not an emergency line" in form.text.lower()
    assert post(resident, f"{web}/beats/RV-02/tip", form.text, text="").status_code == 400
    sent = post(resident, f"{web}/beats/RV-02/tip", form.text, text="The van comes at 2am", contact="555-0101")
    assert sent.status_code == 303 and "tip" not in sent.headers["Location"].split("/tip")[1]
    assert "Your tip was passed on" in resident.get(web + sent.headers["Location"], timeout=10).text
    assert "The van comes at 2am" not in requests.get(f"{web}/beats/RV-02", timeout=10).text
    assert requests.get(f"{web}/beats/XX-99/tip", timeout=10).status_code == 404

    with officer(web) as browser:
        listing = browser.get(f"{web}/staff/problems", timeout=10).text
        missing = post(browser, f"{web}/staff/beats/RV-02/problems", listing, title="", category="noise")
        assert missing.status_code == 400 and 'id="title-error"' in missing.text
        made = post(browser, f"{web}/staff/beats/RV-02/problems", listing, title="Corner shop nights", category="noise")
        assert made.status_code == 303
        problem_id = re.search(ID, made.headers["Location"])[1]
        url = f"{web}/staff/problems/{problem_id}"
        page = browser.get(url, timeout=10).text
        assert f'name="concern_ids" value="{concern_id}"' in page
        assert post(browser, f"{url}/concerns", page).status_code == 400  # none chosen
        linked = post(browser, f"{url}/concerns", page, concern_ids=concern_id, tell_reporters="yes")
        assert linked.status_code == 303
        assert f"/staff/concerns/{concern_id}" in browser.get(url, timeout=10).text
        told = requests.get(f"{problem_stack.concerns_url}/concerns/{concern_id}", headers=staff_headers(), timeout=10)
        notes = [update.get("public_note") or "" for update in told.json()["updates"]]
        assert any("as one problem: Corner shop nights" in note for note in notes)  # its reporter is told
        assert post(browser, f"{url}/nothing", page).status_code == 404
        action_id = agreed_action(problem_stack.concerns_url, "Ask the shop to close its yard at ten")
        page = browser.get(url, timeout=10).text
        assert f'<option value="{action_id}">' in page  # a meeting's open action, in no plan yet
        assert post(browser, f"{url}/actions", page, agreed_action_id="").status_code == 400
        assert post(browser, f"{url}/actions", page, agreed_action_id=action_id).status_code == 303
        plan = browser.get(url, timeout=10).text
        assert f'id="action-{action_id}"' in plan and f'<option value="{action_id}">' not in plan
        meeting_form = browser.get(f"{web}/staff/beats/RV-02/meetings/new", timeout=10).text
        agenda_problems = re.search(r'<ul class="agenda-problems">(.*?)</ul>', meeting_form, re.S)[1]
        assert f"/staff/problems/{problem_id}" in agenda_problems  # meetings work the beat's open problems

        tips = browser.get(f"{web}/staff/beats/RV-02/tips", timeout=10)
        assert tips.status_code == 200 and "The van comes at 2am" in tips.text
        tip_id = re.search(rf"/staff/tips/{ID}", tips.text)[1]
        tip = browser.get(f"{web}/staff/tips/{tip_id}", timeout=10).text
        assert "555-0101" in tip and "Your reading of this tip was recorded." in tip
        linked = post(browser, f"{web}/staff/tips/{tip_id}/problem", tip, problem_id=problem_id)
        assert linked.status_code == 303
        assert f"/staff/problems/{problem_id}" in browser.get(f"{web}/staff/tips/{tip_id}", timeout=10).text


def test_everyone_else_gets_a_refusal_page(problem_stack):
    web = problem_stack.web_url
    resident = requests.Session()
    form = resident.get(f"{web}/beats/RV-02/tip", timeout=10).text
    assert post(resident, f"{web}/beats/RV-02/tip", form, text="Someone sells from the van").status_code == 303
    with officer(web) as browser:
        listing = browser.get(f"{web}/staff/problems", timeout=10).text
        made = post(browser, f"{web}/staff/beats/RV-02/problems", listing, title="Van", category="noise")
        problem_id = re.search(ID, made.headers["Location"])[1]
        tip_id = re.search(rf"/staff/tips/{ID}", browser.get(f"{web}/staff/beats/RV-02/tips", timeout=10).text)[1]
    pages = [f"/staff/problems/{problem_id}", "/staff/beats/RV-02/tips", f"/staff/tips/{tip_id}"]
    posts = {
        f"/staff/problems/{problem_id}/notes": {"side": "place", "text": "Hola"},
        f"/staff/problems/{problem_id}/stage": {"stage": "analysis"},
        "/staff/beats/RV-02/problems": {"title": "Hola", "category": "noise"},
        f"/staff/tips/{tip_id}/problem": {"problem_id": problem_id},
    }
    people = {"anonymous": None, "resident": "resident-demo-1", "other beat": "officer-rv05"}
    for who, subject in people.items():
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, web, subject)
            token = csrf(browser.get(web + "/follow", timeout=10).text)
            answers = [browser.get(web + path, timeout=10) for path in pages]
            answers += [
                browser.post(web + path, data={"csrf_token": token, **data}, timeout=10) for path, data in posts.items()
            ]
        for path, answer in zip(pages + list(posts), answers, strict=True):
            assert answer.status_code in (403, 404), (who, path, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and "Sehr" not in answer.text
            assert "Someone sells from the van" not in answer.text


def test_a_referral_made_for_a_linked_concern_is_linked_to_the_problem(partners):
    stack, _ = partners
    web = stack.web_url
    with officer(web) as browser:
        concern_id, referral_id = sent_referral(web, browser)
        listing = browser.get(f"{web}/staff/problems", timeout=10).text
        made = post(browser, f"{web}/staff/beats/RV-02/problems", listing, title="Food insecurity", category="noise")
        problem_id = re.search(ID, made.headers["Location"])[1]
        url = f"{web}/staff/problems/{problem_id}"
        page = browser.get(url, timeout=10).text
        assert post(browser, f"{url}/concerns", page, concern_ids=concern_id).status_code == 303
        page = browser.get(url, timeout=10).text
        assert f'<option value="{referral_id}">' in page  # offered: a referral of a linked concern
        assert post(browser, f"{url}/referrals", page).status_code == 400  # none chosen
        assert post(browser, f"{url}/referrals", page, referral_id=referral_id).status_code == 303
        linked = browser.get(url, timeout=10).text
        section = re.search(r'id="referrals">.*?</section>', linked, re.S)[0]
        assert "Sent, waiting for the agency" in section and f'<option value="{referral_id}">' not in section
        assert post(browser, f"{url}/referrals", page, referral_id=referral_id).status_code == 303
        again = re.search(r'id="referrals">.*?</section>', browser.get(url, timeout=10).text, re.S)[0]
        assert again.count("Sent, waiting for the agency") == 1  # linked once, however often it is sent


def test_the_assessment_shows_the_beats_survey_scores_for_the_same_windows(start_stack, surveys_url, clock):
    concerns = {"CONCERNS_RATE_PER_ADDRESS": "1000/3600", "BEAT_CLOCK": clock, "CONCERNS_PROBLEM_MIN_CONCERNS": "3"}
    web = start_stack(concerns=concerns, web={"WEB_SURVEYS_URL": surveys_url}).web_url
    for night in range(3):
        voiced(web, f"Fireworks in the park, night {night}")
    with officer(web) as browser:
        listing = browser.get(f"{web}/staff/problems", timeout=10).text
        candidate = re.search(r'name="candidate" value="([^"]+)"', listing)[1]
        opened = post(browser, f"{web}/staff/beats/RV-02/problems", listing, candidate=candidate)
        url = f"{web}/staff/problems/{re.search(ID, opened.headers['Location'])[1]}"
        page = browser.get(url, timeout=10).text
        assert "survey scores in the same windows" not in page  # no windows before the assessment
        for stage in ("analysis", "response"):
            assert post(browser, f"{url}/stage", page, stage=stage).status_code == 303
        clock.advance(days=10)
        assert post(browser, f"{url}/stage", page, stage="assessment").status_code == 303
        clock.advance(days=8)
        ready = browser.get(url, timeout=10)
        assert ready.status_code == 200
        # The demo's quarter (RV-02 has enough responses) in both windows, for both scores.
        quarter = quarter_of(clock.now())
        table = ready.text.split('class="figures survey-scores"')[1].split("</table>")[0]
        assert "Feeling safe" in table and "Trust in the police" in table
        cells = re.findall(r"<td>(.*?)</td>", table, re.S)
        assert len(cells) == 4 and all(f"{quarter}:" in cell and "% favourable (n=" in cell for cell in cells), cells
        closed = post(browser, f"{url}/assessment", ready.text, outcome="reduced")
        assert closed.status_code == 303
    public = requests.get(url.replace("/staff", ""), timeout=10)
    assert public.status_code == 200 and 'class="figures survey-scores"' in public.text
    assert f"{quarter}:" in public.text and "No survey in this window" not in public.text
    spanish = requests.get(url.replace("/staff", ""), headers={"Accept-Language": "es"}, timeout=10).text
    assert "Las puntuaciones de las encuestas del sector" in spanish and "Sensación de seguridad" in spanish


def test_an_officer_refers_someone_for_the_problem_and_sends_it_from_the_workspace(partners):
    stack, _ = partners
    web = stack.web_url
    with officer(web) as browser:
        listing = browser.get(f"{web}/staff/problems", timeout=10).text
        opened = {"title": "Families without food", "category": "noise"}
        made = post(browser, f"{web}/staff/beats/RV-02/problems", listing, **opened)
        problem_id = re.search(ID, made.headers["Location"])[1]
        url = f"{web}/staff/problems/{problem_id}"
        assert f'href="/staff/problems/{problem_id}/refer"' in browser.get(url, timeout=10).text
        form = browser.get(f"{url}/refer", params={"need": "food"}, timeout=10)
        assert form.status_code == 200 and "Refer someone for the problem: Families without food" in form.text
        assert "Services near the problem" in form.text and f'action="/staff/problems/{problem_id}/refer"' in form.text
        unconsented = {key: value for key, value in CONSENT.items() if key != "given_by"}
        refused = post(browser, f"{url}/refer", form.text, **unconsented)
        assert refused.status_code == 400 and 'id="given_by-error"' in refused.text
        asked = post(browser, f"{url}/refer", form.text, **CONSENT)
        back = f"/staff/problems/{problem_id}#referrals"
        assert asked.status_code == 303 and asked.headers["Location"].endswith(back)

        def drafted() -> str | None:
            page = browser.get(url, timeout=10).text
            return page if 'name="problem_id"' in page else None

        page = wait_for(drafted, timeout=20, message="the drafted referral in the workspace")
        [referral_id] = re.findall(r'action="/staff/referrals/([0-9a-f-]{36})/send"', page)
        sent = post(browser, f"{web}/staff/referrals/{referral_id}/send", page, problem_id=problem_id)
        assert sent.status_code == 303 and sent.headers["Location"].endswith(back)
        section = re.search(r'id="referrals">.*?</section>', browser.get(url, timeout=10).text, re.S)[0]
        assert f'id="referral-{referral_id}"' in section and "Sent, waiting for the agency" in section
        assert "Rosa" not in section  # the workspace names the referral, not the person

    def linked() -> list[str] | None:
        workspace = requests.get(f"{stack.concerns_url}/problems/{problem_id}", headers=staff_headers(), timeout=10)
        return workspace.json()["referral_ids"] or None

    assert wait_for(linked, timeout=20, message="the referral linked to the problem by concerns") == [referral_id]
