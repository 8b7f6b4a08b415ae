"""The surveys pages in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium):
the dashboard, and the form residents answer a survey with.

Screenshots are saved under test-artifacts/ at the repository root (gitignored).
"""

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from beat_shared.testing import headless_chromium

WAVE = {
    "survey_code": "standard",
    "name": "Spring 2026",
    "period": "2026-Q1",
    "beat_codes": ["RV-01"],
    "opens_at": "2026-01-10T00:00:00Z",
    "closes_at": "2026-03-31T00:00:00Z",
    "open_link": {"enabled": True},
}

ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"


@pytest.fixture
def browser():
    driver = headless_chromium((1280, 1600), 30)
    yield driver
    driver.quit()


def open_page(browser, url):
    browser.get(url)
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"


def test_dashboard_shows_the_demo_beats_and_suppression(surveys, helpers, browser, web_config_port):
    helpers.seed_demo()
    ARTIFACTS.mkdir(exist_ok=True)
    base = f"http://127.0.0.1:{web_config_port}"

    open_page(browser, f"{base}/dashboard")
    charts = browser.find_elements(By.CSS_SELECTOR, ".chart")
    assert [c.get_attribute("data-construct") for c in charts] == [
        "safety",
        "trust",
        "respect",
        "voice",
        "disorder",
        "efficacy",
    ]
    for chart in charts:
        assert len(chart.find_elements(By.CSS_SELECTOR, "circle.point")) == 4  # one per quarter
        assert chart.find_elements(By.CSS_SELECTOR, "polygon.interval")
    rows = {
        row.get_attribute("data-beat"): row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "#beat-table tr[data-beat]")
    }
    assert sorted(rows) == ["RV-01", "RV-02", "RV-03", "RV-04", "RV-05", "RV-06"]
    assert rows["RV-06"].split()[1:] == ["suppressed", "suppressed"]
    assert any(ch.isdigit() for ch in rows["RV-01"].split(" ", 1)[1])
    # The current quarter (the frozen clock's) is the one selected; post-contact answers by category.
    assert browser.find_element(By.ID, "period").get_attribute("value") == "2026-Q1"
    contact = {
        row.get_attribute("data-group"): row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "#contact-table tr[data-group]")
    }
    assert sorted(contact) == ["drug_activity", "noise", "speeding_traffic", "vandalism_graffiti"]
    assert all("n=" in text and "suppressed" not in text for text in contact.values())
    browser.save_screenshot(str(ARTIFACTS / "surveys-dashboard-city.png"))

    open_page(browser, f"{base}/dashboard/beats/RV-01")
    card = browser.find_element(By.ID, "report-card").text
    assert "Concerns received" in card and "suppressed" not in card
    assert "Problems worked" in card and "Problems solved (or reduced)" in card
    assert [
        row.get_attribute("data-group")
        for row in browser.find_elements(By.CSS_SELECTOR, "#contact-table tr[data-group]")
    ] == ["RV-01"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "circle.point")) == 24
    browser.save_screenshot(str(ARTIFACTS / "surveys-dashboard-rv01.png"))

    # A beat with 9 responses a quarter: no figure anywhere on its page.
    open_page(browser, f"{base}/dashboard/beats/RV-06")
    assert browser.find_elements(By.CSS_SELECTOR, "circle.point") == []
    assert browser.find_elements(By.CSS_SELECTOR, ".suppressed-mark")
    card = browser.find_element(By.ID, "report-card").text
    assert card.count("suppressed (fewer than 30 responses)") == 2
    charts_text = browser.find_element(By.ID, "charts").text
    assert "n=" not in charts_text and "CI" not in charts_text

    # Readable on a phone: no horizontal scrolling at 390 px.
    browser.set_window_size(390, 844)
    open_page(browser, f"{base}/dashboard")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    browser.save_screenshot(str(ARTIFACTS / "surveys-dashboard-phone.png"))
    for name in ("city", "rv01", "phone"):
        assert (ARTIFACTS / f"surveys-dashboard-{name}.png").stat().st_size > 10_000


def form_is_valid(browser) -> bool:
    return browser.execute_script("return document.getElementById('form').checkValidity()")


def test_the_form_requires_exactly_the_questions_the_server_requires(
    surveys, helpers, web_session, browser, web_config_port
):
    helpers.seed_demo()
    created = web_session.post("/waves", json=WAVE, headers=helpers.headers())
    assert created.status_code == 201, created.text
    slug = created.json()["open_link_url"].split("open=")[1]
    questions = web_session.get(f"/open/{slug}?language=en").json()["questions"]
    kinds = {q["type"] for q in questions if q["required"]}
    assert {"numeric", "multiple_choice", "likert_5"} <= kinds and not all(q["required"] for q in questions)

    browser.get(f"http://127.0.0.1:{web_config_port}/respond?open={slug}")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "fieldset[data-item]"))
    for question in questions:
        box = browser.find_element(By.CSS_SELECTOR, f"fieldset[data-item='{question['item_code']}']")
        legend = box.find_element(By.TAG_NAME, "legend").text
        controls = box.find_elements(By.CSS_SELECTOR, "input, textarea")
        where = question["item_code"]
        if question["required"]:
            assert box.get_attribute("aria-required") == "true" and "(optional)" not in legend, where
            if question["type"] != "multiple_choice":
                assert all(control.get_property("required") for control in controls), where
        else:
            assert box.get_attribute("aria-required") is None and legend.endswith("(optional)"), where
            assert not any(control.get_property("required") for control in controls), where

    # Everything answered but one required question of each kind the form used to let through.
    for question in questions:
        box = browser.find_element(By.CSS_SELECTOR, f"fieldset[data-item='{question['item_code']}']")
        if question["type"] in ("likert_5", "single_choice", "scale_0_10"):
            box.find_element(By.CSS_SELECTOR, "input").click()
    assert not form_is_valid(browser)  # the numeric and the multiple-choice questions are unanswered
    browser.find_element(By.CSS_SELECTOR, "fieldset[data-item='years_in_area'] input").send_keys("7")
    assert not form_is_valid(browser)  # the multiple-choice one still is
    browser.find_element(By.CSS_SELECTOR, "fieldset[data-item='problems_seen'] input").click()
    assert form_is_valid(browser)
