"""A resident's journey in Chromium (Debian's chromium + chromium-driver, driven by Selenium):
find the beat on the map, voice a concern with its category's questions, be offered a likely
duplicate, get the receipt link, follow it, see the officer's public note, say "me too" on
another concern. Once in English with JavaScript, once in Spanish without it; axe-core on every
page; screenshots at desktop and 360 px width into docs/screenshots/ (shown in the README)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from web_testkit import schedule_meeting

from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.testing import NODE_GONE, headless_chromium, page_replaced, wait_for
from web.maps import PICKER_WIDTH, beat_map

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only

REPOSITORY = Path(__file__).resolve().parents[4]
SCREENSHOTS = REPOSITORY / "docs" / "screenshots"
AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
DESKTOP = (1280, 1400)
PHONE = (360, 1400)
RV02 = (-108.380, 43.045)  # (long, lat) inside beat RV-02 of the demo boundaries
WAIT = 40  # seconds a page may take to arrive on a busy two-core machine
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def chrome():
    """One browser for the module; each test starts it with no cookies and scripts on."""
    driver = headless_chromium(DESKTOP, WAIT, "--hide-scrollbars")
    driver.execute_cdp_cmd("Network.enable", {})
    yield driver
    driver.quit()


class Resident:
    """The browser as one person: a language, scripts on or off, and the pages they visit."""

    def __init__(self, driver: webdriver.Chrome, base: str, language: str, scripts: bool) -> None:
        self.driver, self.base, self.language, self.scripts = driver, base, language, scripts
        driver.delete_all_cookies()
        driver.set_window_size(*DESKTOP)
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": language}})
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": not scripts})
        self.pages_checked: list[str] = []

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)
        self._arrived()

    def follow(self, element: WebElement) -> None:
        """Click a link or button that loads another page, and wait for that page."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        try:
            element.click()
        except WebDriverException as error:
            # Chromium at times reports the clicked node gone when the click's own navigation has
            # already replaced the document; whether the page really changed is checked just below.
            if NODE_GONE not in str(error):
                raise
        WebDriverWait(self.driver, WAIT).until(page_replaced(page))
        self._arrived()

    def _arrived(self) -> None:
        # WebDriver's own scripts run even when the page's may not, so this holds for both journeys.
        WebDriverWait(self.driver, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        assert self.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == self.language
        self.check_accessibility()

    def check_accessibility(self) -> None:
        """axe-core on the page as it is; scripts are switched on just for the check when the
        journey runs without them (the page's own script has not run: it loaded without)."""
        if not self.scripts:
            self.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
        try:
            self.driver.execute_script(AXE.read_text())
            results = self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}}).then(done);",
                AXE_TAGS,
            )
        finally:
            if not self.scripts:
                self.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        violations = [
            (violation["id"], [node["target"] for node in violation["nodes"]]) for violation in results["violations"]
        ]
        assert violations == [], f"axe-core on {self.driver.current_url}: {violations}"
        self.pages_checked.append(self.driver.current_url)

    def find(self, selector: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def text(self) -> str:
        return self.find("main").text

    def resize(self, size: tuple[int, int]) -> None:
        """The window at `size`, once the page is laid out at that width: Chromium resizes on its own
        time, and a width read at once may still be the old one (a 360 px check once saw 1280 px)."""
        self.driver.set_window_size(*size)
        wait_for(
            lambda: self.driver.execute_script("return window.innerWidth") == size[0],
            message=f"the window did not become {size[0]} px wide",
        )

    def screenshot(self, name: str, size: tuple[int, int]) -> None:
        self.resize(size)
        if size[0] <= PHONE[0]:
            width = self.driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= size[0], f"{self.driver.current_url} scrolls sideways at {size[0]} px ({width} px wide)"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.execute_script("window.scrollTo(0, 0)")
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        self.driver.set_window_size(*DESKTOP)


def supervisor() -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token('supervisor', 'supervisor-1', env('BEAT_JWT_SECRET'))}"}


def a_neighbours_concern(stack) -> str:
    """Someone else's concern of the same kind at the same spot: the likely duplicate."""
    body = {
        "category": "speeding_traffic",
        "description": "Cars race down Elm Street after midnight.",
        "location": {"lat": RV02[1], "long": RV02[0]},
    }
    answer = requests.post(stack.concerns_url + "/concerns", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["concern"]["id"]


def click_map_at(resident: Resident, stack, long: float, lat: float) -> None:
    """Click the no-script location picker at the pixel that shows (long, lat)."""
    collection = requests.get(stack.concerns_url + "/beats.geojson", timeout=10).json()
    x, y = beat_map(collection, PICKER_WIDTH).projection.point(long, lat)
    picker = resident.find("input.map-picker")
    size = picker.size
    page = resident.driver.find_element(By.TAG_NAME, "html")
    # Selenium 4 offsets are from the element's centre.
    ActionChains(resident.driver).move_to_element_with_offset(
        picker, round(x - size["width"] / 2), round(y - size["height"] / 2)
    ).click().perform()
    WebDriverWait(resident.driver, WAIT).until(page_replaced(page))
    resident._arrived()


def journey(resident: Resident, stack, words: dict[str, str], shots: str | None) -> None:
    other = a_neighbours_concern(stack)
    meeting = schedule_meeting(stack.concerns_url)

    # Home: the map of beats; the resident clicks theirs.
    resident.open("/")
    assert len(resident.driver.find_elements(By.CSS_SELECTOR, "svg.beat-map a.beat-shape")) == 6
    # "Use my location" needs a script: shown with one, absent without (the page still works).
    assert resident.find("form[data-geolocate]").is_displayed() == resident.scripts
    if shots is not None:
        resident.screenshot(f"web-home-desktop{shots}", DESKTOP)
        resident.screenshot(f"web-home-phone{shots}", PHONE)
    resident.follow(resident.find('svg.beat-map a[data-beat="RV-02"]'))
    assert "RV-02" in resident.find("h1").text
    assert words["report_card_down"] in resident.text()
    resident.follow(resident.find(f'a[href="/meetings/{meeting["id"]}"]'))
    assert resident.find("h1").text == "Downtown beat meeting"

    # Voice a concern: category, its questions, the map, the description.
    resident.follow(resident.find('nav a[href="/voice"]'))
    resident.follow(resident.find('a[data-category="speeding_traffic"]'))
    click_map_at(resident, stack, *RV02)
    assert words["location_chosen"] in resident.text()
    resident.find('input[name="attr_time_of_day"][value="night"]').click()
    resident.find('input[name="attr_vehicle_types"][value="car"]').click()
    resident.find("#description").send_keys("Street racing every night near the school.")
    assert words["emergency"] in resident.find(".notice.emergency").text
    if shots is not None:
        resident.screenshot(f"web-voice-desktop{shots}", DESKTOP)
        resident.screenshot(f"web-voice-phone{shots}", PHONE)
    resident.follow(resident.find('button[name="send"]'))

    # A likely duplicate nearby is offered first; the resident's is different.
    assert resident.find(f'li[data-concern="{other}"]')
    resident.follow(resident.find('form input[name="confirmed"] ~ p button'))

    # The receipt, shown once.
    link = resident.find("#receipt-link").get_attribute("value")
    concern_id, token = re.fullmatch(r".*/follow#([0-9a-f-]{36})\.([A-Za-z0-9_-]{32})", link).groups()
    if shots is not None:
        resident.screenshot(f"web-receipt-desktop{shots}", DESKTOP)

    # An officer acknowledges it, with a public note, through the concerns API.
    staff_view = requests.get(f"{stack.concerns_url}/concerns/{concern_id}", headers=supervisor(), timeout=10).json()
    assert staff_view["attributes"] == {"time_of_day": "night", "vehicle_types": ["car"]}
    note = "We will patrol near the school at night this week."
    moved = requests.post(
        f"{stack.concerns_url}/concerns/{concern_id}/transitions",
        json={"status": "acknowledged", "version": staff_view["version"], "public_note": note},
        headers=supervisor(),
        timeout=10,
    )
    assert moved.status_code == 200, moved.text

    # Following it later, from the receipt link: with a script the fragment is posted by itself;
    # without one, the resident pastes the link into the form.
    resident.driver.delete_all_cookies()  # another day: only the link is left
    if resident.scripts:
        resident.driver.get(link)
        WebDriverWait(resident.driver, WAIT).until(lambda d: f"/follow/{concern_id}" in d.current_url)
        resident._arrived()
    else:
        resident.open("/follow")
        resident.find("#receipt").send_keys(link)
        resident.follow(resident.find(".follow-form button"))
    assert token not in resident.driver.current_url
    assert words["acknowledged"] in resident.find("#status").text
    assert note in resident.text()
    if shots is not None:
        resident.screenshot(f"web-follow-desktop{shots}", DESKTOP)
        resident.screenshot(f"web-follow-phone{shots}", PHONE)

    # "Me too" on the neighbour's concern.
    resident.open(f"/concerns/{other}")
    before = int(resident.find("#supporters").text)
    resident.follow(resident.find('form[action$="/support"] button'))
    assert words["supported"] in resident.find(".flash").text
    assert int(resident.find("#supporters").text) == before + 1


ENGLISH = {
    "report_card_down": "The survey results cannot be shown just now.",
    "location_chosen": "Location chosen on the map.",
    "emergency": "call 911",
    "acknowledged": "Acknowledged by an officer",
    "supported": "Thank you: your support was counted.",
}
SPANISH = {
    "report_card_down": "Ahora mismo no se pueden mostrar los resultados de las encuestas.",
    "location_chosen": "Ubicación elegida en el mapa.",
    "emergency": "llame al 911",
    "acknowledged": "Reconocida por un agente",
    "supported": "Gracias: contamos su apoyo.",
}


def test_a_resident_voices_and_follows_a_concern_in_english_with_scripts(stack, chrome, backend):
    resident = Resident(chrome, stack.web_url, "en", scripts=True)
    journey(resident, stack, ENGLISH, shots="" if backend == "sqlite" else None)
    assert len(resident.pages_checked) >= 9
    # The visible switch turns the pages Spanish and keeps them so.
    resident.language = "es"  # what the next page must be in (checked on arrival)
    resident.follow(resident.find('.language-switch a[hreflang="es"]'))
    assert "A mí también" in resident.find('form[action$="/support"] button').text
    resident.open("/")  # the choice is kept, whatever the browser asks for
    assert resident.find("h1").text == "Su barrio, sus agentes de policía"


def test_the_same_journey_in_spanish_without_javascript(stack, chrome, backend):
    resident = Resident(chrome, stack.web_url, "es", scripts=False)
    journey(resident, stack, SPANISH, shots="-es" if backend == "sqlite" else None)
    assert len(resident.pages_checked) >= 9
