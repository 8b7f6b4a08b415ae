"""Every service answers `/` with what it is and where to look: HTML for a person, JSON otherwise
(issue 21, point 5)."""

from beat_shared.service_index import Page, index_document
from shared_sample import LedgerService


def test_the_index_is_json_by_default_and_names_the_api(ledger, web_session):
    answer = web_session.get("/")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    index = answer.json()
    assert index["service"] == "ledger"
    hrefs = {link["href"] for link in index["links"]}
    assert {"/openapi.json", "/openapi.html", "/healthz", "/readyz", "/metrics"} <= hrefs


def test_a_browser_gets_an_html_index_whose_links_answer(ledger, web_session):
    answer = web_session.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<h1>Beat ledger</h1>" in answer.text
    for href in ("/openapi.json", "/openapi.html", "/healthz"):
        assert f"href='{href}'" in answer.text
        assert web_session.get(href).status_code == 200


def test_the_reference_page_lists_the_service_paths(ledger, web_session):
    answer = web_session.get("/openapi.html")
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<code>/entries</code>" in answer.text


def test_development_pages_are_not_listed_in_production():
    pages = (Page("Dashboard", "/dashboard"), Page("Outbox", "/dev/outbox", development_only=True))
    assert [p["href"] for p in index_document(LedgerService, pages, production=False)["pages"]] == [
        "/dashboard",
        "/dev/outbox",
    ]
    assert [p["href"] for p in index_document(LedgerService, pages, production=True)["pages"]] == ["/dashboard"]
