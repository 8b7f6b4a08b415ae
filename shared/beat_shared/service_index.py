"""What each service answers at `/`: what it is and where to look, for a person (HTML) or a
program (JSON). One implementation; each service passes its description (its class docstring)
and its own pages."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from werkzeug.wrappers import Request, Response

from beat_shared.http import json_response


@dataclass(frozen=True)
class Page:
    """A page of the service meant for a browser; `development_only` pages are listed (and
    served) only when BEAT_ENVIRONMENT is not production."""

    title: str
    path: str
    development_only: bool = False


# Every service has these (beat_shared.platform.PlatformEndpoints).
PLATFORM_LINKS = (
    Page("API reference", "/openapi.html"),
    Page("OpenAPI document", "/openapi.json"),
    Page("Liveness", "/healthz"),
    Page("Readiness", "/readyz"),
    Page("Metrics (Prometheus)", "/metrics"),
)


def description_of(service_cls: type) -> str:
    """The first paragraph of the service class's docstring, on one line."""
    doc = inspect.getdoc(service_cls) or f"The {service_cls.name} service of Beat."  # type: ignore[attr-defined]
    return " ".join(doc.split("\n\n", 1)[0].split())


def index_document(
    service_cls: type, pages: Sequence[Page], production: bool, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The index as JSON: the service, its description, its pages and the platform's links."""
    shown = [page for page in pages if not (production and page.development_only)]
    return {
        "service": service_cls.name,  # type: ignore[attr-defined]
        "description": description_of(service_cls),
        "pages": [{"title": page.title, "href": page.path} for page in shown],
        "links": [{"title": link.title, "href": link.path} for link in PLATFORM_LINKS],
        **(extra or {}),
    }


def index_html(document: Mapping[str, Any]) -> str:
    def items(links: Sequence[Mapping[str, str]]) -> str:
        rows = (f"<li><a href='{escape(link['href'])}'>{escape(link['title'])}</a></li>" for link in links)
        return "<ul>" + "".join(rows) + "</ul>"

    name = escape(document["service"])
    pages = f"<h2>Pages</h2>{items(document['pages'])}" if document["pages"] else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Beat {name}</title><style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:50rem}}"
        "</style></head><body>"
        f"<h1>Beat {name}</h1><p>{escape(document['description'])}</p>"
        f"{pages}<h2>API</h2>{items(document['links'])}"
        "</body></html>\n"
    )


def index_response(request: Request, document: Mapping[str, Any]) -> Response:
    """HTML for a browser, JSON for everyone else (the JSON is also the default)."""
    wanted = request.accept_mimetypes.best_match(["application/json", "text/html"], default="application/json")
    if wanted == "text/html":
        return Response(index_html(document), mimetype="text/html")
    return json_response(dict(document))
