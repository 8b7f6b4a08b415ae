"""Broadcasting an alert in Chromium, without scripts: the officer writes it, reads the preview (how
many it reaches, English and Spanish) and sends it; a follower reads it in their inbox and changes a
preference, in Spanish. axe-core on every page, the pages at 360 px without sideways scrolling, and
the preview's screenshots (docs/screenshots/web-staff-broadcast-{desktop,phone}.png)."""

from __future__ import annotations

import pytest
from integration.test_web_browser import DESKTOP, PHONE, Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_inbox import alerted
from integration.test_web_officer_broadcasts import broadcast_stack as broadcast_stack  # the services, shared
from integration.test_web_supervisor_browser import fits_a_phone

from beat_shared.testing import wait_for

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only


def test_an_officer_previews_and_sends_an_alert_without_scripts(broadcast_stack, chrome, backend):
    broadcast_stack.follows("resident-demo-1")
    officer = Resident(chrome, broadcast_stack.web_url, "en", scripts=False)
    officer.open("/sign-in")
    officer.find('input[value="officer-rv02"]').click()
    officer.follow(officer.find('form[action="/sign-in"] button'))
    officer.open("/staff/meetings")
    officer.follow(officer.find('a[href="/staff/beats/RV-02/broadcast"]'))
    officer.find("#title").send_keys("Car break-ins on Elm Street")
    officer.find("#body").send_keys("Please keep valuables out of sight and lock your car.")
    officer.follow(officer.find('form[action$="/broadcast/preview"] button'))
    assert "Subscribers of RV-02 it will reach: 1." in officer.find("#recipients").text
    fits_a_phone(officer)
    if backend == "sqlite":
        officer.screenshot("web-staff-broadcast-desktop", DESKTOP)
        officer.screenshot("web-staff-broadcast-phone", PHONE)
    officer.follow(officer.find("#send"))
    assert "The alert was sent to the beat's subscribers." in officer.find(".flash").text
    assert len(broadcast_stack.broadcasts()) == 1


def test_the_inbox_and_preferences_in_spanish_without_scripts(broadcast_stack, chrome, backend):
    broadcast_stack.follows("resident-demo-1")
    alerted(broadcast_stack)
    resident = Resident(chrome, broadcast_stack.web_url, "es", scripts=False)
    resident.open("/sign-in")
    resident.find('input[value="resident-demo-1"]').click()
    resident.follow(resident.find('form[action="/sign-in"] button'))
    resident.open("/me")
    resident.follow(resident.find('main a[href="/me/inbox"]'))

    def arrived() -> bool:
        resident.open("/me/inbox")
        return "Car break-ins on Elm St" in resident.text()

    wait_for(arrived, message="the alert in the inbox")
    if backend == "sqlite":
        resident.screenshot("web-inbox-desktop-es", DESKTOP)
        resident.screenshot("web-inbox-phone-es", PHONE)
    fits_a_phone(resident)
    resident.follow(resident.find('form[action="/me/inbox/read"] button'))
    assert "Marcado como leído." in resident.find(".flash").text
    resident.follow(resident.find('a[href="/me/notifications"]'))
    if backend == "sqlite":
        resident.screenshot("web-preferences-desktop-es", DESKTOP)
        resident.screenshot("web-preferences-phone-es", PHONE)
    fits_a_phone(resident)
    resident.follow(resident.find('form[action="/me/notifications"] button[type="submit"]'))
    assert "Se guardó su preferencia." in resident.find(".flash").text
