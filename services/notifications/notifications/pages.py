"""HTML pages this service serves itself (the people's pages are the web service's): the page an
unsubscribe link opens, from `templates/pages/`, escaped."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates" / "pages"),
    autoescape=True,
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)


def unsubscribe_page(token: str) -> str:
    """Two buttons that POST the token back: stop these messages, or all of them."""
    return PAGES.get_template("unsubscribe.html").render(token=token)
