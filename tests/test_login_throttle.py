"""Throttling failed log-ins: per account whatever name or e-mail is typed, per IP address, with
device cookies sparing the owner's known browsers the account's lock; no oracle while locked;
counters shared through Redis; a warning when several workers would each count alone."""
import logging

import pytest

from app import create_app
from app.extensions import db
from app.models import User

from .conftest import PASSWORD, REDIS_URL, ApiClient
from .servers import (
    AppServer,
    fresh_database,  # noqa: F401 - fixture
)

LOGIN = "/api/v1/auth/login"
WRONG = "wrong password!!"
OWNER_IP = "198.51.100.7"


@pytest.fixture
def limited(app, config):
    """``limited(**settings)`` -> an app with rate limits on (see test_rate_limits.py)."""
    def limited(**settings):
        config.update(RATELIMIT_ENABLED=True, **settings)
        return create_app(config)
    return limited


def browser(app, ip: str, user=None) -> ApiClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return ApiClient(client, user)


def attempt(api: ApiClient, login: str, password: str):
    response = api.post(LOGIN, {"login": login, "password": password})
    if response.status_code == 200:
        api.csrf = response.get_json()["csrf_token"]  # a login starts a new session
    return response


def stranger(app, n: int, login: str, password: str):
    """One attempt from a fresh browser on an address of its own (no per-IP budget involved)."""
    return attempt(browser(app, f"203.0.113.{n}"), login, password)


def assert_locked(response):
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def device_cookie_header(response) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("causerie_device=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return found[0]


def test_failures_count_per_account_whatever_name_or_email_is_typed(limited, make_user):
    make_user("alice", email="alice@example.org")
    app = limited(RATELIMIT_LOGIN_FAILURES="4 per 5 minutes", RATELIMIT_LOGIN_FAILURES_IP="100 per 5 minutes")
    spellings = ["alice", "Alice", "alice@example.org", "ALICE@EXAMPLE.ORG"]
    assert [stranger(app, n, login, WRONG).status_code for n, login in enumerate(spellings)] == [401] * 4
    # Locked for every spelling, from any address, even with the right password.
    for n, login in enumerate(spellings + ["  aLiCe "], start=10):
        assert_locked(stranger(app, n, login, PASSWORD))
    # Another account is not affected.
    make_user("bob")
    assert stranger(app, 20, "bob", PASSWORD).status_code == 200


def test_unknown_names_are_throttled_exactly_like_accounts(limited, make_user):
    """No enumeration: a name nobody holds locks after as many failures, with the same answer."""
    make_user("alice", email="alice@example.org")
    app = limited(RATELIMIT_LOGIN_FAILURES="3 per 5 minutes", RATELIMIT_LOGIN_FAILURES_IP="100 per 5 minutes")

    def run(spellings, start):
        return [stranger(app, start + n, login, WRONG) for n, login in enumerate(spellings)]

    known = run(["alice", "ALICE", "Alice@Example.org", "alice"], 0)
    unknown = run(["ghost", "GHOST", "Ghost", "ghost"], 10)
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401, 401, 401, 429]
    assert known[-1].get_json() == unknown[-1].get_json()
    assert set(known[-1].headers.keys()) == set(unknown[-1].headers.keys())


def test_the_answer_during_a_lock_is_the_same_for_right_and_wrong_passwords(limited, make_user):
    make_user("alice")
    app = limited(RATELIMIT_LOGIN_FAILURES="2 per 5 minutes", RATELIMIT_LOGIN_FAILURES_IP="100 per 5 minutes")
    for n in range(2):
        assert stranger(app, n, "alice@example.org", WRONG).status_code == 401
    right, wrong = stranger(app, 10, "Alice", PASSWORD), stranger(app, 11, "alice", WRONG)
    for response in (right, wrong):
        assert_locked(response)
        assert "causerie_device=" not in " ".join(response.headers.getlist("Set-Cookie"))
    assert right.get_json() == wrong.get_json()
    assert right.headers["Retry-After"] == wrong.headers["Retry-After"]
    assert set(right.headers.keys()) == set(wrong.headers.keys())


def test_the_owners_known_browser_is_not_locked_out(limited, make_user):
    alice = make_user("alice")
    app = limited(RATELIMIT_LOGIN_FAILURES="3 per 5 minutes", RATELIMIT_LOGIN_FAILURES_DEVICE="2 per 5 minutes",
                  RATELIMIT_LOGIN_FAILURES_IP="100 per 5 minutes")
    owner = browser(app, OWNER_IP)
    first = attempt(owner, "alice", PASSWORD)
    assert first.status_code == 200
    cookie = device_cookie_header(first)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/api/v1/auth/login" in cookie
    assert "Secure" not in cookie and "Max-Age=31536000" in cookie

    # An attacker locks the account from many addresses...
    for n in range(3):
        assert stranger(app, n, "alice", WRONG).status_code == 401
    assert_locked(stranger(app, 9, "alice", PASSWORD))
    # ...but the owner's browser still gets in, by name or by e-mail address.
    assert attempt(owner, "alice", PASSWORD).status_code == 200
    assert attempt(owner, "ALICE@example.org", PASSWORD).status_code == 200
    # The device has a failure budget of its own.
    assert [attempt(owner, "alice", WRONG).status_code for _ in range(2)] == [401, 401]
    assert_locked(attempt(owner, "alice", PASSWORD))
    # A device cookie for another account, or a forged one, exempts nothing.
    bob_browser = browser(app, OWNER_IP, make_user("bob"))
    assert_locked(attempt(bob_browser, "alice", PASSWORD))
    forged = browser(app, "192.0.2.50")
    forged.client.set_cookie("causerie_device", f'{{"user": {alice.id}, "device": "x"}}', path=LOGIN)
    assert_locked(attempt(forged, "alice", PASSWORD))


def test_a_known_browser_is_still_held_to_the_per_ip_limit(limited, make_user):
    make_user("alice")
    app = limited(RATELIMIT_LOGIN_FAILURES="100 per 5 minutes", RATELIMIT_LOGIN_FAILURES_DEVICE="100 per 5 minutes",
                  RATELIMIT_LOGIN_FAILURES_IP="3 per 5 minutes")
    owner = browser(app, OWNER_IP)
    device_cookie_header(attempt(owner, "alice", PASSWORD))
    sprayer = browser(app, OWNER_IP)  # someone else behind the same address
    for name in ("carol", "dave", "erin"):
        assert attempt(sprayer, name, WRONG).status_code == 401
    assert_locked(attempt(owner, "alice", PASSWORD))


def test_the_device_cookie_follows_the_session_cookie_over_https(limited, make_user):
    make_user("alice")
    app = limited(SESSION_COOKIE_SECURE=True, DEVICE_COOKIE_DAYS=30)
    response = attempt(browser(app, OWNER_IP), "alice", PASSWORD)
    cookie = device_cookie_header(response)
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Max-Age=2592000"):
        assert attribute in cookie, cookie


def test_a_login_holding_nul_is_a_plain_failure(limited, make_user):
    make_user("alice")
    app = limited()
    response = stranger(app, 1, "al\x00ice", PASSWORD)
    assert response.status_code == 401, response.get_data(as_text=True)[:300]


def test_failures_are_shared_through_redis_by_every_app(limited, make_user, redis_client, redis_key_prefix):
    alice = make_user("alice", email="alice@example.org")
    settings = dict(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_key_prefix,
                    RATELIMIT_LOGIN_FAILURES="3 per 5 minutes", RATELIMIT_LOGIN_FAILURES_IP="100 per 5 minutes")
    one = limited(**settings)
    for n, login in enumerate(["alice", "Alice", "ALICE"]):
        assert stranger(one, n, login, WRONG).status_code == 401
    keys = [k.decode() for k in redis_client.scan_iter(match=f"*{redis_key_prefix}*")]
    assert any(f"login:account:{alice.id}" in k for k in keys), keys
    # Another process (another app on the same Redis) sees the lock, whatever the spelling.
    other = limited(**settings)
    assert_locked(stranger(other, 10, "alice@example.org", PASSWORD))


WARNING = "RATELIMIT_STORAGE_URI=memory://"


@pytest.mark.parametrize("workers, storage, warned", [
    ("4", "memory://", True), ("1", "memory://", False), ("4", REDIS_URL, False), ("", "memory://", False),
])
def test_start_up_warns_when_several_workers_count_alone(config, monkeypatch, caplog, workers, storage, warned):
    monkeypatch.setenv("CAUSERIE_GUNICORN_WORKERS", workers)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage)
    with caplog.at_level(logging.WARNING):
        create_app(config)
    found = [r for r in caplog.records if WARNING in r.getMessage()]
    assert bool(found) == warned, caplog.text
    if warned:
        assert found[0].levelno == logging.WARNING and "4 gunicorn workers" in found[0].getMessage()


@pytest.mark.slow
def test_gunicorn_with_several_workers_on_memory_storage_logs_the_warning(fresh_database):  # noqa: F811
    with AppServer(fresh_database, workers=2, migrate=True, ratelimit_enabled=True) as server:
        log = server.log_text()
    assert WARNING in log and "2 gunicorn workers" in log, log[-3000:]


def test_a_device_cookie_names_an_account_not_a_login_name(limited, make_user):
    """The cookie of a deleted account exempts nothing from the new account under the same name."""
    alice = make_user("alice")
    app = limited(RATELIMIT_LOGIN_FAILURES="1 per 5 minutes", RATELIMIT_LOGIN_FAILURES_IP="100 per 5 minutes")
    owner = browser(app, OWNER_IP)
    assert attempt(owner, "alice", PASSWORD).status_code == 200
    with app.app_context():
        db.session.delete(db.session.get(User, alice.id))
        db.session.commit()
    make_user("alice")  # a new account under the old name: the old device cookie is not its
    assert stranger(app, 1, "alice", WRONG).status_code == 401
    assert_locked(attempt(owner, "alice", PASSWORD))


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"login": ' + "[" * 50_000 + "]" * 50_000 + ', "password": "x"}'])
def test_a_deeply_nested_login_body_is_a_400_with_limits_on(limited, raw):
    app = limited()
    response = app.test_client().post(LOGIN, data=raw, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"
