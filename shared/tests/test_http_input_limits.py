"""Input the database cannot hold is refused at the HTTP layer with a 400, never a 500:
NUL characters anywhere in a request, and page numbers whose OFFSET would overflow."""

import pytest

from beat_shared.errors import InvalidInput
from beat_shared.http import MAX_PAGE, page_request


def assert_nul_refused(response, part):
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert part in error["details"]


def test_nul_in_a_json_body_is_400_and_nothing_is_stored(ledger, web_session):
    response = web_session.post("/entries", json={"subject": "a\u0000b", "sequence": 1})
    assert_nul_refused(response, "body")
    assert web_session.post("/entries", json={"subject": "ab", "sequence": 1}).json()["id"] == 1


def test_an_escaped_backslash_before_u0000_is_not_a_nul(ledger, web_session):
    response = web_session.post("/entries", json={"subject": "a\\u0000b", "sequence": 1})
    assert response.status_code == 201, response.text


def test_nul_in_the_query_or_a_form_body_is_400(ledger, web_session):
    assert_nul_refused(web_session.post("/entries?x=a%00b", json={"subject": "s", "sequence": 1}), "query")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_nul_refused(web_session.post("/entries", data="subject=a%00b", headers=form), "body")


def test_page_numbers_are_bounded():
    assert page_request({"page": str(MAX_PAGE), "per_page": "100"}).offset == (MAX_PAGE - 1) * 100
    for page in ("0", str(MAX_PAGE + 1), "576460752303423487"):
        with pytest.raises(InvalidInput):
            page_request({"page": page})
