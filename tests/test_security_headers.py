"""Security headers, one test per header: CSP, nosniff, Referrer-Policy, frame rules, HSTS,
Cache-Control on the API, cookie flags, and CORS."""
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest

from app import create_app

from .conftest import ALLOWED_ORIGIN, PASSWORD
from .factories import has_route

EVIL = "https://evil.example"
STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def assert_strict_csp(response, frame_ancestors=("'none'",)):
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    if frame_ancestors is not None:
        assert policy["frame-ancestors"] == list(frame_ancestors)
    for values in policy.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(values), policy
    return policy


@pytest.fixture
def article(make_article):
    return make_article("a1")


@pytest.fixture
def api_responses(client, article):
    """One answer of each kind the API gives: data, list, error, method error, login required."""
    return [
        client.get("/api/v1/auth/me"),
        client.get("/api/v1/articles/a1/comments"),
        client.get("/api/v1/articles/nope"),
        client.get("/api/v1/auth/login"),
        client.get("/api/v1/me/export"),
        client.get("/api/v1/openapi.json"),
    ]


@pytest.fixture
def page_responses(app, client, article):
    """The HTML documents that exist in this checkout (pages land with the widget and dashboard issues)."""
    paths = [p for p in ("/", "/login", "/register", "/moderation", "/demo/a1") if has_route(app, p)]
    responses = [client.get(p, headers={"Accept": "text/html"}) for p in paths]
    responses.append(client.get("/no-such-page", headers={"Accept": "text/html"}))
    return responses


def test_content_security_policy_on_the_api(api_responses):
    for response in api_responses:
        assert_strict_csp(response)


def test_content_security_policy_on_pages(page_responses):
    for response in page_responses:
        assert_strict_csp(response)


def test_widget_frame_may_be_framed_by_allowed_origins_only(app, config, client, article):
    if not has_route(app, "/embed/thread"):
        # No widget yet: every document keeps the default.
        assert_strict_csp(client.get("/api/v1/auth/me"))
        return
    response = client.get("/embed/thread?article=a1")
    assert response.status_code == 200
    policy = assert_strict_csp(response, frame_ancestors=None)
    ancestors = set(policy["frame-ancestors"])
    assert ALLOWED_ORIGIN in ancestors
    assert ancestors <= {ALLOWED_ORIGIN, "'self'"}
    assert "X-Frame-Options" not in response.headers
    # Without host sites configured, nobody else may frame it.
    lonely = create_app({**config, "ALLOWED_ORIGINS": ""}).test_client()
    ancestors = set(csp(lonely.get("/embed/thread?article=a1"))["frame-ancestors"])
    assert ancestors in ({"'self'"}, {"'none'"})


def test_x_content_type_options_nosniff_everywhere(app, client, api_responses, page_responses):
    others = [client.get("/healthz")]
    if has_route(app, "/embed.js"):
        others.append(client.get("/embed.js"))
    for response in [*api_responses, *page_responses, *others]:
        assert response.headers.get("X-Content-Type-Options") == "nosniff", response.request.path


def test_referrer_policy(api_responses, page_responses):
    for response in [*api_responses, *page_responses]:
        assert response.headers.get("Referrer-Policy") in STRICT_REFERRER_POLICIES, response.request.path


def test_x_frame_options_deny_wherever_frame_ancestors_is_none(api_responses, page_responses):
    for response in [*api_responses, *page_responses]:
        assert csp(response)["frame-ancestors"] == ["'none'"]
        assert response.headers.get("X-Frame-Options") == "DENY", response.request.path


def test_hsts_only_over_https(app):
    plain = app.test_client().get("/api/v1/auth/me")
    assert "Strict-Transport-Security" not in plain.headers
    secure = app.test_client().get("/api/v1/auth/me", base_url="https://localhost")
    hsts = secure.headers.get("Strict-Transport-Security", "")
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600


def test_api_answers_are_not_cached(login, make_user, api_responses, article):
    alice = login(make_user("alice"))
    written = alice.post("/api/v1/articles/a1/comments", {"body": "hello"})
    refused = alice.post("/api/v1/articles/a1/comments", {"body": ""})
    for response in [*api_responses, written, refused, alice.get("/api/v1/me/export")]:
        assert "no-store" in response.headers.get("Cache-Control", ""), response.request.path


def session_cookie(response) -> dict[str, str]:
    """The attributes of the causerie_session Set-Cookie header, names lower-cased."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("causerie_session="):
            attributes = {}
            for part in header.split(";")[1:]:
                name, _, value = part.strip().partition("=")
                attributes[name.lower()] = value
            return attributes
    raise AssertionError(f"no session cookie set: {response.headers.getlist('Set-Cookie')}")


def test_cookie_flags_for_local_http(client):
    cookie = session_cookie(client.get("/api/v1/auth/me"))
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert "secure" not in cookie and "partitioned" not in cookie
    assert "domain" not in cookie and cookie.get("path") == "/"


def test_cookie_flags_in_a_third_party_frame_over_https(config):
    client = create_app({**config, "SESSION_COOKIE_SECURE": True}).test_client()
    cookie = session_cookie(client.get("/api/v1/auth/me", base_url="https://localhost"))
    assert "httponly" in cookie and "secure" in cookie and "partitioned" in cookie
    assert cookie["samesite"].lower() == "none"


def test_remembered_login_cookie_has_a_bounded_lifetime(app, login, make_user):
    make_user("alice")
    api = login()
    response = api.post("/api/v1/auth/login", {"login": "alice", "password": PASSWORD, "remember": True})
    expires = parsedate_to_datetime(session_cookie(response)["expires"])
    limit = datetime.now(timezone.utc) + timedelta(days=app.config["REMEMBER_DAYS"], hours=1)
    assert expires <= limit
    forgotten = login().post("/api/v1/auth/login", {"login": "alice", "password": PASSWORD})
    assert "expires" not in session_cookie(forgotten)  # ends with the browser session


def test_cors_counts_is_public_without_credentials(client, article):
    response = client.get("/api/v1/counts?keys=a1", headers={"Origin": EVIL})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_never_echoes_an_arbitrary_origin_with_credentials(login, make_user, article):
    alice = login(make_user("alice"))
    responses = [
        alice.get("/api/v1/auth/me", headers={"Origin": EVIL}),
        alice.get("/api/v1/articles/a1/comments", headers={"Origin": EVIL}),
        alice.get("/api/v1/me/export", headers={"Origin": EVIL}),
        alice.post("/api/v1/articles/a1/comments", {"body": "cors"}, headers={"Origin": EVIL}),
        alice.client.options("/api/v1/articles/a1/comments", headers={
            "Origin": EVIL, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-CSRF-Token, Content-Type"}),
    ]
    for response in responses:
        allowed = response.headers.get("Access-Control-Allow-Origin")
        assert allowed in (None, "*"), (response.request.path, allowed)
        if allowed == "*":
            assert "Access-Control-Allow-Credentials" not in response.headers
        assert response.headers.get("Access-Control-Allow-Credentials") != "true"


# -- CORS (auth-attacks.md 10) -------------------------------------------------------------------------------

def test_10_no_credentialed_cors_for_any_origin(world):
    """auth-attacks.md 10."""
    origins = [EVIL, "null", "https://news.example.evil.example", "https://evilnews.example",
               "https://sub.news.example.evil.example", "http://news.example", "https://NEWS.example", ALLOWED_ORIGIN]
    for origin in origins:
        echo_allowed = (None, "*", origin) if origin == ALLOWED_ORIGIN else (None, "*")
        for response in (world.as_bob.get("/api/v1/auth/me", headers={"Origin": origin}),
                         world.as_bob.get(f"/api/v1/comments/{world.bobs}", headers={"Origin": origin}),
                         world.as_bob.client.options(f"/api/v1/comments/{world.bobs}", headers={
                             "Origin": origin, "Access-Control-Request-Method": "DELETE",
                             "Access-Control-Request-Headers": "X-CSRF-Token"})):
            allowed = response.headers.get("Access-Control-Allow-Origin")
            assert allowed in echo_allowed, (origin, allowed)
            if allowed != ALLOWED_ORIGIN:
                assert "Access-Control-Allow-Credentials" not in response.headers
                assert "Access-Control-Allow-Methods" not in response.headers
            assert "x-csrf-token" not in response.headers.get("Access-Control-Expose-Headers", "").lower()
            if allowed not in (None, "*"):
                assert "Origin" in response.headers.get("Vary", "")
    me = world.as_bob.get("/api/v1/auth/me", headers={"Origin": EVIL})
    assert me.get_data(as_text=True).lstrip().startswith("{")  # no JSONP

