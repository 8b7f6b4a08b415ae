"""The signed session cookie, CSRF tokens, receipts in fragments and the security headers."""

from web.domain.receipts import parse_receipt
from web.security import MAX_COOKIE_VALUE, Session, SessionCodec, content_security_policy, security_headers

CONCERN = "0b5a3a52-9d1e-4a38-9b54-1c3f6b1d2e10"
TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def test_a_session_survives_the_round_trip_and_a_forged_one_is_emptied():
    codec = SessionCodec(b"secret")
    session = Session()
    session.set("language", "es")
    cookie = codec.dumps(session)
    assert codec.loads(cookie).data == {"language": "es"}
    payload, signature = cookie.split(".")
    assert codec.loads(payload + "." + signature[:-2] + "AA").data == {}  # altered signature
    assert SessionCodec(b"another secret").loads(cookie).data == {}  # signed with another key
    assert codec.loads("not a cookie").data == {} and codec.loads(None).data == {}


def test_csrf_tokens_are_per_session_and_compared_exactly():
    session, other = Session(), Session()
    token = session.csrf_token
    assert session.changed and session.csrf_token == token  # made once, then kept
    assert session.csrf_valid(token)
    assert not session.csrf_valid(other.csrf_token)
    assert not session.csrf_valid("") and not session.csrf_valid(None)
    assert not Session().csrf_valid(token)  # a session that never made one accepts none


def test_the_policy_allows_no_inline_code_and_no_framing():
    policy = content_security_policy("n0nce")
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self' 'nonce-n0nce'" in policy and "frame-ancestors 'none'" in policy
    headers = security_headers("n0nce")
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"


def test_a_receipt_is_read_from_the_link_or_its_fragment_alone():
    link = f"http://127.0.0.1:8000/follow#{CONCERN}.{TOKEN}"
    assert parse_receipt(link).concern_id == CONCERN and parse_receipt(link).token == TOKEN
    assert parse_receipt(f"  {CONCERN}.{TOKEN}\n").fragment == f"{CONCERN}.{TOKEN}"
    assert parse_receipt("http://127.0.0.1:8000/follow") is None
    assert parse_receipt(f"{CONCERN}.short") is None
    assert parse_receipt("") is None


def test_the_session_cookie_is_secure_outside_development():
    from web.security import cookie_options

    assert cookie_options(production=True) == {"httponly": True, "samesite": "Lax", "secure": True, "path": "/"}
    assert cookie_options(production=False)["secure"] is False
    assert cookie_options(production=False)["httponly"] is True


def test_the_language_switch_returns_only_to_a_page_of_this_site():
    from web.page import local_path

    assert local_path("/beats/RV-01?x=1") == "/beats/RV-01?x=1"
    for elsewhere in (
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "evil",
        "",
        None,
    ):
        assert local_path(elsewhere) == "/", elsewhere
    assert local_path("/\tjavascript:alert(1)") == "/"


def test_a_large_session_lets_go_of_its_oldest_receipts_to_stay_a_cookie_browsers_keep():
    codec = SessionCodec(b"secret")
    session = Session()
    person = {"subject": "s", "role": "resident", "name": "Rosa", "token": "t" * 1500, "expires_at": 1}
    session.set("person", person)
    session.set("receipts", {f"{n:08d}-0000-4000-8000-000000000000": TOKEN for n in range(20)})
    session.set("sent_keys", [f"key-{n:032d}" for n in range(20)])
    assert len(codec.dumps(session)) > MAX_COOKIE_VALUE  # as it would be without the limit
    value = codec.dumps_within_limit(session)
    kept = codec.loads(value).data
    assert len(value) <= MAX_COOKIE_VALUE and kept["person"] == person
    assert "sent_keys" not in kept or len(kept["sent_keys"]) < 20
    assert 0 < len(kept["receipts"]) < 20 and "00000019-0000-4000-8000-000000000000" in kept["receipts"]
    assert "00000000-0000-4000-8000-000000000000" not in kept["receipts"]  # the oldest went first
    small = Session()
    small.set("language", "es")
    assert codec.dumps_within_limit(small) == codec.dumps(small)  # a small session is left as it is
