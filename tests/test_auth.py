"""Accounts: register, login, logout, me, tokens, roles, CSRF, enumeration, mass assignment."""
import statistics
import time
from urllib.parse import quote

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import LoginSession, User

from .conftest import PASSWORD
from .factories import REDIRECTS, assert_error


def register(api, **fields):
    body = {"username": "alice", "email": "alice@example.org", "password": PASSWORD, **fields}
    return api.post("/api/v1/auth/register", body)


def test_me_anonymous_gives_csrf_token(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200
    data = response.get_json()
    assert data["user"] is None
    assert len(data["csrf_token"]) >= 32


def test_register_logs_in_and_ignores_role(login, app):
    api = login()
    response = register(api, role="admin", is_admin=True, id=999, display_name="Alice A.")
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["user"]["role"] == "reader"
    assert data["user"]["username"] == "alice"
    assert data["user"]["display_name"] == "Alice A."
    assert data["user"]["email"] == "alice@example.org"
    assert data["user"]["id"] != 999
    me = api.get("/api/v1/auth/me").get_json()
    assert me["user"]["username"] == "alice"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        assert user.role == "reader"
        assert user.password_hash.startswith("scrypt:")
        assert PASSWORD not in user.password_hash


def test_register_conflicts_case_insensitively(login, make_user):
    make_user("alice")
    assert register(login(), username="ALICE", email="other@example.org").status_code == 409
    assert register(login(), username="bob", email="Alice@Example.org").status_code == 409


def test_register_validation_names_every_field(login, app):
    response = register(login(), username="a", email="nope", password="short")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) >= {"email"}
    response = register(login(), username="a!", password="short")
    assert set(response.get_json()["error"]["fields"]) == {"username", "password"}
    for name in ("admin", "Moderator", "deleted", "x" * 33, "bob smith", "аdmin"):
        assert register(login(), username=name).status_code == 422, name
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_register_rejects_control_characters_in_display_name(login):
    assert register(login(), display_name="Bob\r\nBcc: x@evil.example").status_code == 422
    assert register(login(), display_name="admin\u202e").status_code == 422


def test_login_failure_is_the_same_for_unknown_user_and_wrong_password(login, make_user):
    make_user("alice")
    unknown = login().post("/api/v1/auth/login", {"login": "nobody", "password": PASSWORD})
    wrong = login().post("/api/v1/auth/login", {"login": "alice", "password": "wrong password!"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()


def test_login_by_email_and_logout_invalidates_copied_cookie(login, make_user, app):
    make_user("alice")
    api = login()
    response = api.post("/api/v1/auth/login", {"login": "ALICE@example.org", "password": PASSWORD})
    assert response.status_code == 200
    api.csrf = response.get_json()["csrf_token"]
    cookie = api.client.get_cookie("causerie_session").value
    assert api.post("/api/v1/auth/logout").status_code == 204
    replay = app.test_client()
    replay.set_cookie("causerie_session", cookie)
    assert replay.get("/api/v1/auth/me").get_json()["user"] is None
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginSession.id))) == 0


def test_login_rotates_session_and_csrf_token(login, make_user):
    make_user("alice")
    api = login()
    before_cookie = api.client.get_cookie("causerie_session").value
    before_token = api.csrf
    response = api.post("/api/v1/auth/login", {"login": "alice", "password": PASSWORD})
    assert response.get_json()["csrf_token"] != before_token
    assert api.client.get_cookie("causerie_session").value != before_cookie


def test_repeated_login_failures_are_throttled(config, make_user):
    config["RATELIMIT_ENABLED"] = True
    from app import create_app
    app = create_app(config)
    client = app.test_client()
    statuses = [client.post("/api/v1/auth/login", json={"login": "alice", "password": "wrong-password"}).status_code
                for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    response = client.post("/api/v1/auth/login", json={"login": "alice", "password": "wrong-password"})
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_csrf_required_for_cookie_writes(login, make_user):
    make_user("alice")
    api = login(make_user("bob"))
    response = api.client.post("/api/v1/auth/logout")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    other = login(make_user("carol"))
    response = api.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": other.csrf})
    assert response.status_code == 403
    response = api.post("/api/v1/auth/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert api.post("/api/v1/auth/logout").status_code == 204


def test_bearer_tokens(login, make_user, client):
    api = login(make_user("alice"))
    response = api.post("/api/v1/auth/tokens", {"name": "cms"})
    assert response.status_code == 201
    data = response.get_json()
    token = data["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=headers).get_json()["user"]["username"] == "alice"
    # bearer requests need no CSRF token (the DELETE below), but cannot mint tokens (API.md, Auth)
    response = client.post("/api/v1/auth/tokens", json={"name": "second"}, headers=headers)
    assert response.status_code == 403
    assert client.delete(f"/api/v1/auth/tokens/{data['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_set_role_requires_admin(login, make_user):
    reader = make_user("reader1")
    admin = login(make_user("boss", role="admin"))
    assert login(reader).put(f"/api/v1/users/{reader.id}/role", {"role": "admin"}).status_code == 403
    response = admin.put(f"/api/v1/users/{reader.id}/role", {"role": "moderator"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "moderator"
    assert admin.put(f"/api/v1/users/{reader.id}/role", {"role": "god"}).status_code == 422
    assert admin.put("/api/v1/users/999999/role", {"role": "reader"}).status_code == 404


def test_role_change_takes_effect_on_existing_session(login, make_user, app):
    mod = make_user("mod1", role="moderator")
    api = login(mod)
    assert api.get("/api/v1/articles").status_code == 200
    with app.app_context():
        db.session.get(User, mod.id).role = "reader"
        db.session.commit()
    assert api.get("/api/v1/articles").status_code == 403


def test_cli_creates_user(runner, app):
    result = runner.invoke(args=["users", "create", "editor", "--email", "ed@example.org",
                                 "--password", PASSWORD, "--role", "moderator"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "editor"))
        assert user.role == "moderator"
    result = runner.invoke(args=["users", "create", "editor", "--email", "x@example.org",
                                 "--password", PASSWORD])
    assert result.exit_code != 0


# -- User enumeration, open redirects through the API, password policy (auth-attacks.md 8, 12; bad-requests.md N6)

def test_8_1_unknown_user_and_wrong_password_look_the_same(world):
    """auth-attacks.md 8.1."""
    unknown = world.login().post("/api/v1/auth/login", {"login": "nobody", "password": PASSWORD})
    wrong = world.login().post("/api/v1/auth/login", {"login": "alice", "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    ignore = {"Date", "Content-Length"}
    assert set(unknown.headers.keys()) - ignore == set(wrong.headers.keys()) - ignore
    assert ("Set-Cookie" in unknown.headers) == ("Set-Cookie" in wrong.headers)


def test_8_2_unknown_user_and_wrong_password_take_as_long(world, app):
    """auth-attacks.md 8.2. Alice's password hashed the way the site hashes passwords (the factories
    use a cheap work factor)."""
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "alice").values(
            password_hash=generate_password_hash(PASSWORD, method=app.config["PASSWORD_HASH_METHOD"])))
        db.session.commit()
    api = world.login()
    timings = {"unknown": [], "wrong": []}
    for _ in range(5):
        for kind, login in (("unknown", "nobody-at-all"), ("wrong", "alice")):
            start = time.perf_counter()
            assert api.post("/api/v1/auth/login", {"login": login, "password": "not the password"}).status_code == 401
            timings[kind].append(time.perf_counter() - start)
    ratio = statistics.median(timings["unknown"]) / statistics.median(timings["wrong"])
    assert 0.25 < ratio < 4, timings


def test_8_4_registration_conflicts_do_not_say_which_field(world):
    """auth-attacks.md 8.4."""
    body = {"password": PASSWORD}
    by_name = world.login().post("/api/v1/auth/register", {**body, "username": "alice", "email": "new@example.org"})
    by_email = world.login().post("/api/v1/auth/register", {**body, "username": "newbie", "email": "alice@example.org"})
    assert by_name.status_code == by_email.status_code == 409
    assert by_name.get_json() == by_email.get_json()


def test_8_5_login_normalizes_like_registration(world):
    """auth-attacks.md 8.5."""
    for login in ("ALICE", " alice ", "Alice@Example.org"):
        assert world.login().post("/api/v1/auth/login", {"login": login, "password": PASSWORD}).status_code == 200
    generic = world.login().post("/api/v1/auth/login", {"login": "nobody", "password": PASSWORD}).get_json()
    fullwidth = world.login().post("/api/v1/auth/login", {"login": "ａｌｉｃｅ", "password": PASSWORD})
    assert fullwidth.status_code in (200, 401)
    if fullwidth.status_code == 401:
        assert fullwidth.get_json() == generic


def test_12_the_json_api_never_redirects(world):
    """auth-attacks.md 12."""
    for value in REDIRECTS:
        api = world.login()
        for path, body, ok in (("/api/v1/auth/login", {"login": "bob", "password": PASSWORD}, 200),
                               ("/api/v1/auth/logout", None, 204)):
            response = api.client.post(f"{path}?next={quote(value)}", json=({**body, "next": value} if body else None),
                                       headers={"X-CSRF-Token": api.csrf})
            assert response.status_code == ok, (value, response.status_code)
            assert "Location" not in response.headers
            assert "evil" not in response.get_data(as_text=True)
            if ok == 200:
                api.csrf = response.get_json()["csrf_token"]
        for header in world.login().get(f"/api/v1/auth/me?next={quote(value)}").headers.values():
            assert "\r" not in header and "\n" not in header


def test_n6_password_policy_and_no_truncation(world):
    """bad-requests.md N6."""
    def register(name, password):
        return world.login().post("/api/v1/auth/register",
                                  {"username": name, "email": f"{name}@example.org", "password": password})

    for password in ("", "x", "seven77", "nine99999"):
        assert "password" in assert_error(register("shorty", password), 422)["fields"]
    start = time.perf_counter()
    assert_error(register("huge", "p" * 1_000_000), 413, 422)
    assert time.perf_counter() - start < 3
    long_password = "Tr0ub4dor&3-" * 6 + "abcdefgh"  # 80 ASCII characters
    assert len(long_password) == 80
    assert register("longpass", long_password).status_code == 201
    def login(password):
        return world.login().post("/api/v1/auth/login", {"login": "longpass", "password": password}).status_code

    assert login(long_password[:72]) == 401  # no silent truncation at 72 bytes (bcrypt's limit)
    assert login(long_password) == 200

