"""The dashboard in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

Screenshots are saved under test-artifacts/ at the repository root (gitignored).
"""

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
    ):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager never tries to download anything.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
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
    browser.save_screenshot(str(ARTIFACTS / "surveys-dashboard-city.png"))

    open_page(browser, f"{base}/dashboard/beats/RV-01")
    card = browser.find_element(By.ID, "report-card").text
    assert "Concerns received" in card and "suppressed" not in card
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
