"""Signing in and out: with the city's OpenID Connect provider, or (development only) as one of
the demo people.

An endpoint group of the web service (mixed into `WebService`). Either way the session cookie then
holds the person's bearer token, which every API call of theirs carries: the services, not these
pages, decide what the person may see and do.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from werkzeug.wrappers import Response

from beat_shared.auth import TokenVerifier, mint_token
from beat_shared.settings_provider import SettingsProvider
from web.api import ApiClient
from web.domain.people import DEMO_PEOPLE, LANDING_OF_ROLE, demo_person
from web.oidc import OidcClient, Pending, SignedIn, SignInFailed
from web.page import Page, local_path, page_group
from web.security import CSRF_FIELD
from web.settings import Settings

log = logging.getLogger(__name__)

SIGNED_IN_SECONDS = 8 * 3600  # a development sign-in lasts a working day
CALLBACK = "/sign-in/callback"
PENDING = "sign_in"  # the session's key for a sign-in under way at the provider

signing_in_page = page_group("pages")


class Oidc(SettingsProvider[Settings]):
    """The container's client of the city's provider, or None when none is configured."""

    def __init__(self) -> None:
        super().__init__(Settings)

    def setup(self) -> None:
        super().setup()
        settings = self.settings
        self.client: OidcClient | None = None
        if settings.oidc:
            self.client = OidcClient(
                settings.oidc_discovery_url,
                settings.oidc_client_id,
                settings.oidc_client_secret,
                settings.oidc_scopes,
                TokenVerifier.from_config(self.container.config),
                settings.api_timeout,
            )

    def get_dependency(self, worker_ctx: Any) -> OidcClient | None:
        return self.client


class SignIn:
    """Sign-in pages (needs the service's `apis` and `pages` dependencies)."""

    oidc = Oidc()

    @signing_in_page("GET", "/sign-in")
    def sign_in_page(self, view: Page, api: ApiClient) -> Response:
        """Sign in (the city's provider, or demo people)

        With a provider: off to it (the state, nonce and PKCE verifier stay in the session)."""
        if self.oidc is not None:
            next_path = local_path(view.request.args.get("next")) if view.request.args.get("next") else ""
            try:
                url, pending = self.oidc.begin(_redirect_uri(view), next_path, view.language)
            except SignInFailed as failed:
                return _failed(view, failed)
            view.session.set(PENDING, pending.as_dict())
            return view.redirect(url)
        if not view.settings.development_sign_in:
            return view.render("error.html", status=404, kind="not_found")
        return view.render("sign_in.html", people=DEMO_PEOPLE)

    @signing_in_page("GET", CALLBACK)
    def sign_in_callback(self, view: Page, api: ApiClient) -> Response:
        """Back from the city's provider (HTML redirect)

        The provider's answer: `code` and `state` (never logged: redacted from the access log)."""
        if self.oidc is None:
            return view.render("error.html", status=404, kind="not_found")
        pending = Pending.from_session(view.session.pop(PENDING))
        try:
            signed_in = self.oidc.finish(_redirect_uri(view), pending, view.request.args)
        except SignInFailed as failed:
            return _failed(view, failed)
        _keep(view, signed_in)
        home = LANDING_OF_ROLE.get(signed_in.principal.role, "/me")
        return view.redirect(pending.next if pending and pending.next else home)

    @signing_in_page("POST", "/sign-in")
    def sign_in(self, view: Page, api: ApiClient) -> Response:
        """Sign in as a demo person (HTML redirect)

        Development only: refused in production, with RS256 and beside a provider."""
        if not view.settings.development_sign_in:
            return view.render("error.html", status=404, kind="not_found")
        person = demo_person(view.request.form.get("subject", ""))
        if person is None:
            return view.render("sign_in.html", status=400, people=DEMO_PEOPLE, error=True)
        settings = view.settings
        token = mint_token(
            person.role,
            person.subject,
            settings.jwt_secret,
            agency_id=person.agency_id,
            name=person.name,
            ttl_seconds=SIGNED_IN_SECONDS,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        view.session.pop(CSRF_FIELD)  # a new person, a new form token
        view.session.set(
            "person",
            {
                "subject": person.subject,
                "role": person.role,
                "name": person.name,
                "token": token,
                "expires_at": int(time.time()) + SIGNED_IN_SECONDS,
            },
        )
        return view.redirect(LANDING_OF_ROLE.get(person.role, "/me"))

    @signing_in_page("POST", "/sign-out")
    def sign_out(self, view: Page, api: ApiClient) -> Response:
        """Sign out (HTML redirect)

        Forgets the person and their token here (the provider's own session is the provider's)."""
        view.session.pop("person")
        view.session.pop(PENDING)
        return view.redirect("/")


def _redirect_uri(view: Page) -> str:
    return view.settings.oidc_redirect_url or view.request.host_url.rstrip("/") + CALLBACK


def _keep(view: Page, signed_in: SignedIn) -> None:
    principal = signed_in.principal
    view.session.pop(CSRF_FIELD)  # a new person, a new form token
    view.session.set(
        "person",
        {
            "subject": principal.subject,
            "role": principal.role,
            "name": signed_in.name,
            "token": signed_in.access_token,
            "expires_at": signed_in.expires_at,
        },
    )


def _failed(view: Page, failed: SignInFailed) -> Response:
    log.info("a sign-in failed: %s", failed.reason)  # the reason names no token, code or person
    return view.render("error.html", status=failed.status, kind=failed.kind)
