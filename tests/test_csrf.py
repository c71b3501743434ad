"""Cross-site request forgery: cookie writes need the session's token and an allowed origin, GET changes
nothing, and log-in cannot be forced from another site (auth-attacks.md 3)."""
import base64

import pytest

from app.models import LoginSession

from .conftest import ALLOWED_ORIGIN, PASSWORD
from .factories import EVIL, assert_error, count, has_route, snapshot


def cookie_writes(world):
    writes = [
        ("POST", "/api/v1/articles/a1/comments", {"body": "csrf"}),
        ("PATCH", f"/api/v1/comments/{world.bobs}", {"body": "csrf"}),
        ("DELETE", f"/api/v1/comments/{world.bobs}", None),
        ("PUT", f"/api/v1/comments/{world.live}/vote", {"value": -1}),
        ("POST", f"/api/v1/comments/{world.live}/flags", {"reason": "abuse"}),
        ("POST", "/api/v1/auth/tokens", {"name": "csrf"}),
        ("DELETE", "/api/v1/me", None),
        ("POST", "/api/v1/auth/logout", None),
    ]
    return [(m, p, b) for m, p, b in writes if has_route(world.app, p, m)]


def test_3_1_cookie_writes_without_the_token_are_refused(world):
    """auth-attacks.md 3.1."""
    before = snapshot(world.app)
    for method, path, body in cookie_writes(world):
        assert_error(world.as_bob.client.open(path, method=method, json=body), 403, code="csrf_failed")
    mod = world.as_mod
    assert_error(mod.client.patch("/api/v1/articles/a1", json={"status": "closed"}), 403, code="csrf_failed")
    if has_route(world.app, f"/api/v1/moderation/comments/{world.pending}", "POST"):
        assert_error(mod.client.post(f"/api/v1/moderation/comments/{world.pending}", json={"action": "approve"}),
                     403, code="csrf_failed")
    assert snapshot(world.app) == before
    assert world.as_bob.get("/api/v1/auth/me").get_json()["user"]["username"] == "bob"


def test_3_2_a_token_from_before_login_is_refused(world):
    """auth-attacks.md 3.2."""
    api = world.login()
    old_token = api.csrf
    response = api.post("/api/v1/auth/login", {"login": "bob", "password": PASSWORD})
    assert response.status_code == 200
    new_token = response.get_json()["csrf_token"]
    assert new_token != old_token
    before = snapshot(world.app)
    assert_error(api.client.post("/api/v1/articles/a1/comments", json={"body": "stale"},
                                 headers={"X-CSRF-Token": old_token}), 403, code="csrf_failed")
    assert snapshot(world.app) == before


@pytest.mark.parametrize("content_type, data", [
    ("text/plain", b'{"body": "csrf"}'),
    ("application/x-www-form-urlencoded", b"body=csrf"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="body"\r\n\r\ncsrf\r\n--x--\r\n'),
])
def test_3_3_simple_cross_site_requests_are_refused(world, content_type, data):
    """auth-attacks.md 3.3."""
    before = snapshot(world.app)
    for path in ("/api/v1/articles/a1/comments", "/api/v1/auth/login", "/api/v1/auth/register"):
        response = world.as_bob.client.post(path, data=data, content_type=content_type,
                                            headers={"Origin": EVIL})
        assert_error(response, 403, 415)
        # Without any cookie: not logged in, or (login, register) the media type alone stops it.
        assert_error(world.app.test_client().post(path, data=data, content_type=content_type), 401, 415)
    assert snapshot(world.app) == before


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{EVIL}/article"},
    {"Origin": "https://news.example.evil.example"}, {"Origin": "http://news.example"},
    {"Origin": "https://evilnews.example"}, {"Origin": "https://sub.news.example"},
])
def test_3_4_a_foreign_origin_is_refused_even_with_the_token(world, headers):
    """auth-attacks.md 3.4."""
    before = snapshot(world.app)
    assert_error(world.as_bob.post("/api/v1/articles/a1/comments", {"body": "from elsewhere"}, headers=headers),
                 403, code="csrf_failed")
    assert_error(world.as_bob.put(f"/api/v1/comments/{world.live}/vote", {"value": 1}, headers=headers),
                 403, code="csrf_failed")
    assert snapshot(world.app) == before


def test_3_4_an_allowed_host_site_with_the_token_may_write(world):
    """auth-attacks.md 3.4."""
    response = world.as_bob.post("/api/v1/articles/a1/comments", {"body": "from the host site"},
                                 headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 201


def test_3_5_get_never_changes_state(world):
    """auth-attacks.md 3.5."""
    before = snapshot(world.app)
    assert_error(world.as_alice.get(f"/api/v1/comments/{world.live}/delete"), 404)
    assert_error(world.as_alice.get("/api/v1/auth/logout"), 405)
    assert_error(world.as_mod.get(f"/moderation/approve?id={world.pending}",
                                  headers={"Accept": "application/json"}), 404)
    assert_error(world.as_mod.get(f"/api/v1/moderation/comments/{world.pending}"), 404, 405)
    assert snapshot(world.app) == before
    assert world.as_alice.get("/api/v1/auth/me").get_json()["user"]["username"] == "alice"


def test_3_6_token_is_stable_within_a_session_and_long(world):
    """auth-attacks.md 3.6."""
    api = world.as_bob
    first = api.get("/api/v1/auth/me").get_json()["csrf_token"]
    assert api.get("/api/v1/auth/me").get_json()["csrf_token"] == first == api.csrf
    assert len(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))) >= 16


def test_3_7_cross_site_login_with_an_existing_session_is_refused(world):
    """auth-attacks.md 3.7."""
    api = world.login()  # has an anonymous session cookie, as a returning visitor's browser would
    before = count(world.app, LoginSession)
    response = api.client.post("/api/v1/auth/login", json={"login": "bob", "password": PASSWORD},
                               headers={"Origin": EVIL})
    assert_error(response, 403, code="csrf_failed")
    assert count(world.app, LoginSession) == before


def test_3_7_cross_site_login_without_any_cookie_is_refused(world):
    """auth-attacks.md 3.7."""
    response = world.app.test_client().post("/api/v1/auth/login", json={"login": "bob", "password": PASSWORD},
                                            headers={"Origin": EVIL})
    assert_error(response, 403, code="csrf_failed")

