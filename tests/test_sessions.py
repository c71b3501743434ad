"""Session cookies: renewed at log-in, dead after log-out, unforgeable (auth-attacks.md 4)."""
from itsdangerous import URLSafeTimedSerializer

from .conftest import PASSWORD, ApiClient
from .factories import assert_error, post_comment, snapshot


def test_4_1_the_pre_login_cookie_never_becomes_authenticated(world):
    """auth-attacks.md 4.1."""
    api = world.login()
    before = api.client.get_cookie("causerie_session").value
    response = api.post("/api/v1/auth/login", {"login": "bob", "password": PASSWORD})
    assert response.status_code == 200
    assert api.client.get_cookie("causerie_session").value != before
    replay = world.app.test_client()
    replay.set_cookie("causerie_session", before)
    assert replay.get("/api/v1/auth/me").get_json()["user"] is None


def test_4_2_a_copied_cookie_cannot_write_after_logout(world):
    """auth-attacks.md 4.2."""
    api = world.login(world.bob)
    cookie, token = api.client.get_cookie("causerie_session").value, api.csrf
    assert api.post("/api/v1/auth/logout").status_code == 204
    replay = ApiClient(world.app.test_client())
    replay.client.set_cookie("causerie_session", cookie)
    replay.csrf = token
    before = snapshot(world.app)
    assert_error(post_comment(replay, "after logout"), 401)
    assert_error(replay.put(f"/api/v1/comments/{world.live}/vote", {"value": 1}), 401)
    assert snapshot(world.app) == before


def test_4_6_and_4_7_tampered_or_forged_cookies_are_anonymous(world):
    """auth-attacks.md 4.6, 4.7."""
    api = world.as_bob
    cookie = api.client.get_cookie("causerie_session").value
    app = world.app
    real = app.session_interface.get_signing_serializer(app)
    session_data = real.loads(cookie)
    assert "_user_id" in session_data and session_data["_user_id"] != str(world.bob.id)

    def forged(secret, data):
        return URLSafeTimedSerializer(secret, salt="cookie-session", signer_kwargs={
            "key_derivation": "hmac", "digest_method": real.signer_kwargs["digest_method"]},
            serializer=real.serializer).dumps(data)

    flipped = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    attempts = [flipped,
                # A valid signature, but a user id instead of a server-side session key.
                real.dumps({**session_data, "_user_id": str(world.admin.id)}),
                real.dumps({**session_data, "_user_id": "1"})]
    attempts += [forged(key, {**session_data, "_user_id": session_data["_user_id"]})
                 for key in ("dev", "secret", "changeme", "development", "secret-key", "flask")]
    for value in attempts:
        client = app.test_client()
        client.set_cookie("causerie_session", value)
        assert client.get("/api/v1/auth/me").get_json()["user"] is None
        assert_error(client.post("/api/v1/articles/a1/comments", json={"body": "forged"},
                                 headers={"X-CSRF-Token": api.csrf}), 401, 403)
    assert app.config["SECRET_KEY"] not in ("dev", "secret", "changeme")



def test_a_cookie_verified_once_is_still_refused_when_it_expires_tampered_or_the_key_changes(world, monkeypatch):
    """The contents of a cookie are kept once its signature is verified (web.caller.CookieSessionInterface):
    the kept copy never outlives the cookie's age limit or the key that signed it, and what a request
    does to its session never reaches the next request with the same cookie."""
    from app.web import caller

    api = world.as_bob
    app = world.app
    cookie = api.client.get_cookie("causerie_session").value
    replay = app.test_client()
    replay.set_cookie("causerie_session", cookie)
    for _ in range(2):  # verified, then kept
        assert replay.get("/api/v1/auth/me").get_json()["user"]["id"] == world.bob.id
    flipped = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    forger = app.test_client()
    forger.set_cookie("causerie_session", flipped)
    assert forger.get("/api/v1/auth/me").get_json()["user"] is None

    signer = app.session_interface.get_signing_serializer(app)
    nested = signer.dumps({**signer.loads(cookie), "seen": ["a"]})
    with app.test_request_context(headers={"Cookie": f"causerie_session={nested}"}):
        from flask import request
        session = app.session_interface.open_session(app, request)
        session["csrf_token"] = "changed in this request only"
        session["seen"].append("b")
        again = app.session_interface.open_session(app, request)
        assert again["csrf_token"] != "changed in this request only" and again["seen"] == ["a"]

    lifetime = app.permanent_session_lifetime.total_seconds()
    now = caller.time.time()
    monkeypatch.setattr(caller.time, "time", lambda: now + lifetime + 5)
    assert replay.get("/api/v1/auth/me").get_json()["user"] is None  # past its age: refused, kept or not
    monkeypatch.undo()
    replay.set_cookie("causerie_session", cookie)  # the refusal answered with a fresh cookie
    assert replay.get("/api/v1/auth/me").get_json()["user"]["id"] == world.bob.id

    old_key = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "another-secret-key-of-enough-length-0123456789"
    try:
        assert replay.get("/api/v1/auth/me").get_json()["user"] is None  # signed with a key no longer used
    finally:
        app.secret_key = app.config["SECRET_KEY"] = old_key
