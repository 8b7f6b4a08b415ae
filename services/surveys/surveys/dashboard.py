"""The dashboard and the resident's form: static HTML and hand-written JS, no CDN.

The pages draw everything from the JSON API in the browser, so they show exactly
what any other client of the API sees, suppression included.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files


@cache
def _static(name: str) -> str:
    return files("surveys").joinpath("static", name).read_text(encoding="utf-8")


def page(beat: str | None, city: str) -> str:
    """The city page (beat None) or one beat's page, of the city named `city` (BEAT_CITY_NAME)."""
    filled = _static("dashboard.html").replace("__BEAT__", html.escape(beat or "", quote=True))
    return filled.replace("__CITY__", html.escape(city, quote=True))


def script() -> str:
    return _static("dashboard.js")


def respond_page() -> str:
    return _static("respond.html")
