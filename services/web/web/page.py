"""One page request: the person's session, language and nonce, and how its answer is made.

Every answer leaves through `Page.render` or `Page.redirect`, so every answer carries the
security headers and the (re-signed) session cookie.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from beat_shared.http import HttpEndpoint
from beat_shared.settings_provider import SettingsProvider
from web.api import ApiClient, ApiError
from web.domain.language import LANGUAGE_NAMES, negotiate
from web.rendering import Renderer
from web.security import CSRF_FIELD, SESSION_COOKIE, Session, SessionCodec, cookie_options, new_nonce, security_headers
from web.settings import Settings

log = logging.getLogger(__name__)

# What a person is told for each API error status (the message keys are in the catalogues).
ERROR_PAGES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "bad_request",
    422: "unprocessable",
    429: "too_many",
    503: "unavailable",
}


class Page:
    def __init__(self, request: Request, session: Session, renderer: Renderer, settings: Settings) -> None:
        self.request = request
        self.session = session
        self.renderer = renderer
        self.settings = settings
        self.nonce = new_nonce()
        self.language = negotiate(request.headers.get("Accept-Language"), session.get("language"))

    def _signed_in(self) -> dict[str, Any] | None:
        """The session's person while their token lasts; after it expires they are anonymous again
        (signing in anew gets a fresh token) rather than refused by every service."""
        person = self.session.get("person")
        if not isinstance(person, dict):
            return None
        expires_at = person.get("expires_at")
        if isinstance(expires_at, int) and expires_at <= time.time():
            return None
        return person

    @property
    def bearer(self) -> str | None:
        """The signed-in person's token (from the city's provider, or the development sign-in), or
        None: anonymous."""
        person = self._signed_in()
        return person.get("token") if person else None

    @property
    def person(self) -> dict[str, str] | None:
        person = self._signed_in()
        return {"name": person["name"], "role": person["role"]} if person else None

    def _(self, message: str) -> str:
        return self.renderer.gettext(self.language, message)

    def csrf_ok(self) -> bool:
        return self.session.csrf_valid(self.request.form.get(CSRF_FIELD))

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        body = self.renderer.render(
            self.language,
            template,
            {
                "lang": self.language,
                "nonce": self.nonce,
                "csrf_token": self.session.csrf_token,
                "path": self.request.path,
                "other_languages": {code: name for code, name in LANGUAGE_NAMES.items() if code != self.language},
                "flash": self.session.pop("flash"),
                "surveys_url": self.settings.surveys_public_url,
                "city": self.settings.city_name,
                "person": self.person,
                "sign_in_offered": self.settings.sign_in_offered,
                **context,
            },
        )
        return self._finish(Response(body, status=status, mimetype="text/html"))

    def redirect(self, location: str, flash: str | None = None) -> Response:
        """303 See Other: after a post, the browser asks for the next page with a GET."""
        if flash:
            self.session.set("flash", flash)
        return self._finish(Response("", status=303, headers={"Location": location}))

    def error(self, error: ApiError) -> Response:
        kind = ERROR_PAGES.get(error.status, "unavailable")
        if error.status >= 500:
            log.warning("a page could not be made: %s", error)
        status = error.status if error.status in ERROR_PAGES else 502
        return self.render("error.html", status=status, kind=kind)

    def _finish(self, response: Response) -> Response:
        response.headers.update(security_headers(self.nonce))
        response.headers["Cache-Control"] = "no-store"  # pages may hold a person's own concern
        if self.session.changed:
            codec = SessionCodec(self.settings.session_secret)
            value = codec.dumps_within_limit(self.session)
            response.set_cookie(SESSION_COOKIE, value, **cookie_options(self.settings.production))
        return response


class Pages(SettingsProvider[Settings]):
    """Makes a `Page` for each request; holds the settings (read once, as every service's are) and the
    renderer (templates loaded once)."""

    def __init__(self) -> None:
        super().__init__(Settings)

    def setup(self) -> None:
        super().setup()
        self.renderer = Renderer(self.settings.timezone)
        self.codec = SessionCodec(self.settings.session_secret)

    def get_dependency(self, worker_ctx: Any) -> Pages:
        return self

    def open(self, request: Request) -> Page:
        return Page(request, self.codec.loads(request.cookies.get(SESSION_COOKIE)), self.renderer, self.settings)


class PageEndpoint(HttpEndpoint):
    """An HTTP entrypoint for pages: what the platform refuses before a page handler runs (a NUL
    character in a form, a body over BEAT_MAX_BODY_BYTES) answers as a page too, not as JSON."""

    def handle_request(self, request: Request) -> Response:
        response = super().handle_request(request)
        if response.status_code < 400 or response.mimetype != "application/json":
            return response
        pages = next(d for d in self.container.dependencies if isinstance(d, Pages))
        refused = pages.open(request)
        return refused.render(
            "error.html", status=response.status_code, kind=ERROR_PAGES.get(response.status_code, "bad_request")
        )


page_http = PageEndpoint.decorator

Handler = Callable[..., Response]
# A check made before a page's method runs: None lets it run, a Response (a refusal page) answers instead.
Guard = Callable[[Page], Response | None]


def page_group(tag: str, guard: Guard | None = None) -> Callable[[str, str], Callable[[Handler], Handler]]:
    """The route decorator of one endpoint group, so that every page module declares its pages alike:
    `staff_page = page_group("staff pages", anyone_signed_in)`, then `@staff_page("GET", "/staff/queue")`
    on a method that receives `(view, api, **path values)` (see `page`). `tag` and the method's
    docstring (its first paragraph the summary, as on every service's endpoints) describe the page in
    the service's OpenAPI document; `guard` may refuse the request before any service is asked anything."""

    def route(method: str, url: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            guarded = _guarded(handler, guard) if guard else handler
            return page_http(method, url, auth="none", tags=[tag])(page(guarded))

        return decorator

    return route


def _guarded(handler: Handler, guard: Guard) -> Handler:
    @functools.wraps(handler)
    def wrapper(self: Any, view: Page, api: ApiClient, **kwargs: Any) -> Response:
        return guard(view) or handler(self, view, api, **kwargs)

    return wrapper


def refusal(view: Page) -> Response:
    """The page someone gets for a page that is not theirs to see: 403, in their language."""
    return view.render("error.html", status=403, kind="staff_only")


def anyone_signed_in(view: Page) -> Response | None:
    """A guard: anyone signed in. An anonymous visitor gets `refusal`, and no service is asked anything
    on their behalf (there is no one to ask for); the services decide the rest."""
    return refusal(view) if view.person is None else None


def role_in(*roles: str) -> Guard:
    """A guard: people signed in with one of `roles`; anyone else gets `refusal`."""

    def guard(view: Page) -> Response | None:
        return None if view.person is not None and view.person["role"] in roles else refusal(view)

    return guard


def page(method: Callable[..., Response]) -> Callable[..., Response]:
    """An entrypoint method that receives a `Page` (and the person's API client) instead of the
    bare request; an API error or a failed CSRF check becomes a page in the person's language."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Request, **kwargs: Any) -> Response:
        current = self.pages.open(request)
        if request.method == "POST" and not current.csrf_ok():
            return current.render("error.html", status=403, kind="expired_form")
        try:
            api = self.apis.client(
                bearer=current.bearer,
                client_address=request.remote_addr,
                request_id=getattr(request, "request_id", None),
            )
            return method(self, current, api, **kwargs)
        except ApiError as error:
            return current.error(error)
        except Exception:  # a fault of ours is still a page in the right language, never a JSON 500
            log.exception("a page failed")
            return current.render("error.html", status=500, kind="unavailable")

    return wrapper


def local_path(candidate: str | None) -> str:
    """`candidate` when it is a path on this site, else "/" (no open redirects)."""
    if not candidate:
        return "/"
    parts = urlsplit(candidate)
    # Browsers read "/\host" as "//host": a backslash or a control character is never a local path.
    if parts.scheme or parts.netloc or not candidate.startswith("/") or candidate.startswith("//"):
        return "/"
    if "\\" in candidate or any(ord(character) < 0x20 for character in candidate):
        return "/"
    return candidate


__all__ = ["ApiClient", "Page", "Pages", "anyone_signed_in", "local_path", "page", "page_group", "refusal", "role_in"]
