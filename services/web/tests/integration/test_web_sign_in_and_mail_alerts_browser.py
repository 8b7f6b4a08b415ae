"""In Chromium, with axe-core on every page: signing in at the city's OpenID Connect provider (the
test provider) and a refused sign-in's page; following a beat by e-mail without an account, in
Spanish without scripts, from the form to the confirmation mail's link and the alerts' own page."""

from __future__ import annotations

import pytest
from integration.test_web_alerts_by_email import mail_link
from integration.test_web_alerts_by_email import mail_stack as mail_stack  # the fixtures, shared
from integration.test_web_browser import Resident
from integration.test_web_browser import chrome as chrome
from integration.test_web_oidc import RESIDENT
from integration.test_web_oidc import oidc_stack as oidc_stack
from integration.test_web_oidc import provider as provider

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_resident_signs_in_at_the_citys_provider_in_a_browser(oidc_stack, provider, chrome, language):
    provider.account = RESIDENT
    resident = Resident(chrome, oidc_stack.web_url, language, scripts=True)
    resident.open("/alerts")
    resident.follow(resident.find('a.button[href="/sign-in"]'))  # to the provider and back, in one go
    assert resident.driver.current_url == oidc_stack.web_url + "/me"
    assert "Rosa Díaz" in resident.find("header").text
    assert "code=" not in resident.driver.current_url  # the callback's address is gone from the bar

    refused = Resident(chrome, oidc_stack.web_url, language, scripts=False)
    refused.open("/sign-in/callback?code=made-up&state=made-up")  # no sign-in under way: a 400 page
    words = {"en": "Your sign-in did not finish", "es": "No se completó su inicio de sesión"}
    assert words[language] in refused.text()


def test_someone_follows_a_beat_by_e_mail_in_spanish_without_scripts(mail_stack, smtp_sink, chrome):
    base = mail_stack.web_url
    resident = Resident(chrome, base, "es", scripts=False)
    resident.open("/alerts?beat=RV-02")
    resident.find("#email").send_keys("lena@example.org")
    resident.find('input[name="watch"]').click()
    resident.follow(resident.find('form[action="/alerts/email"] button'))
    assert "Revise su correo electrónico" in resident.text()

    resident.driver.get(mail_link(smtp_sink, base, "/alerts/confirm"))
    resident._arrived()  # the confirmation page: its language and axe-core
    resident.follow(resident.find('form[action="/alerts/confirm"] button'))
    assert "Listo: sus alertas han empezado" in resident.text() and "En su vigilancia vecinal" in resident.text()
    resident.follow(resident.find('form[action="/alerts/manage/stop/RV-02"] button'))
    resident.follow(resident.find('form[action="/alerts/manage/forget"] button'))
    assert "se ha olvidado" in resident.text()
