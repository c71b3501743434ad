"""Rate limits (Flask-Limiter), with the test client and low limits set through config keys:
posting, editing, voting, flagging per user and per IP; registration, login failures and SSO per
IP; the 429 JSON answer with Retry-After; moderators exempt; X-Forwarded-For ignored; memory storage
by default and Redis when configured. (Failed logins per account are in test_auth.py.)"""
import time

import jwt
import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db, limiter
from app.models import Comment, Flag, User, Vote

from .conftest import PASSWORD, REDIS_URL, ApiClient
from .factories import post_comment

HOME_IP = "198.51.100.7"
OTHER_IP = "203.0.113.9"


@pytest.fixture
def limited(app, config):
    """``limited(**settings)`` -> an app with rate limits on. It asks for ``app`` first, so that
    fixture's teardown still empties the tables (and the limiter, shared by every app in this
    process, is left configured by the app made last: this one)."""
    def limited(**settings):
        config.update(RATELIMIT_ENABLED=True, **settings)
        return create_app(config)
    return limited


def client_at(app, ip: str = HOME_IP, user=None) -> ApiClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return ApiClient(client, user)


def assert_rate_limited(response):
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and error["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 3600


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def article(make_article):
    return make_article("a1")


def test_posting_is_limited_per_user_with_a_json_429(limited, make_user, article):
    app = limited(RATELIMIT_POST="3 per minute")
    alice = client_at(app, user=make_user("alice"))
    for n in range(3):
        assert post_comment(alice, f"comment {n}").status_code == 201
    assert_rate_limited(post_comment(alice, "one too many"))
    assert rows(app, Comment) == 3
    # The budget is the user's: someone else on the same address still posts.
    assert post_comment(client_at(app, user=make_user("bob")), "bob's turn").status_code == 201


def test_editing_is_limited_per_user(limited, make_user, article):
    app = limited(RATELIMIT_POST="3 per minute")
    alice = client_at(app, user=make_user("alice"))
    comment = post_comment(alice, "first").get_json()["comment"]["id"]
    # Edits have a budget of their own (same setting, separate counter from posting).
    for n in range(3):
        assert alice.patch(f"/api/v1/comments/{comment}", {"body": f"edit {n}"}).status_code == 200
    assert_rate_limited(alice.patch(f"/api/v1/comments/{comment}", {"body": "edit too many"}))
    with app.app_context():
        assert db.session.get(Comment, comment).body == "edit 2"


def test_posting_is_limited_per_ip_across_accounts(limited, make_user, article):
    app = limited(RATELIMIT_POST="100 per minute", RATELIMIT_POST_IP="3 per minute")
    for n in range(3):
        assert post_comment(client_at(app, user=make_user(f"sock{n}")), f"from sock {n}").status_code == 201
    assert_rate_limited(post_comment(client_at(app, user=make_user("sock3")), "from sock 3"))
    assert rows(app, Comment) == 3
    assert post_comment(client_at(app, OTHER_IP, make_user("elsewhere")), "another address").status_code == 201


def test_editing_is_limited_per_ip_across_accounts(limited, make_user, article):
    app = limited(RATELIMIT_POST="100 per minute", RATELIMIT_POST_IP="100 per minute")
    clients = [client_at(app, user=make_user(f"sock{n}")) for n in range(4)]
    ids = [post_comment(api, f"from sock {n}").get_json()["comment"]["id"] for n, api in enumerate(clients)]
    app = limited(RATELIMIT_POST="100 per minute", RATELIMIT_POST_IP="2 per minute")
    clients = [client_at(app, user=api.user) for api in clients]
    statuses = [api.patch(f"/api/v1/comments/{cid}", {"body": "edited"}).status_code
                for api, cid in zip(clients, ids)]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]


@pytest.fixture
def targets(app, make_user, article, login):
    """Five approved comments by an author nobody else is, for votes and flags."""
    author = login(make_user("author"))
    return [post_comment(author, f"target {n}").get_json()["comment"]["id"] for n in range(5)]


def test_voting_is_limited_per_user(limited, make_user, targets):
    app = limited(RATELIMIT_VOTE="3 per minute")
    bob = client_at(app, user=make_user("bob"))
    for target in targets[:3]:
        assert bob.put(f"/api/v1/comments/{target}/vote", {"value": 1}).status_code == 200
    assert_rate_limited(bob.put(f"/api/v1/comments/{targets[3]}/vote", {"value": 1}))
    assert rows(app, Vote) == 3
    carol = client_at(app, user=make_user("carol"))
    assert carol.put(f"/api/v1/comments/{targets[3]}/vote", {"value": 1}).status_code == 200


def test_voting_is_limited_per_ip_across_accounts(limited, make_user, targets):
    app = limited(RATELIMIT_VOTE="100 per minute", RATELIMIT_VOTE_IP="3 per minute")
    statuses = [client_at(app, user=make_user(f"voter{n}")).put(
        f"/api/v1/comments/{targets[0]}/vote", {"value": 1}).status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_flagging_is_limited_per_user(limited, make_user, targets):
    app = limited(RATELIMIT_FLAG="2 per minute")
    bob = client_at(app, user=make_user("bob"))
    for target in targets[:2]:
        assert bob.post(f"/api/v1/comments/{target}/flags", {"reason": "spam"}).status_code == 201
    assert_rate_limited(bob.post(f"/api/v1/comments/{targets[2]}/flags", {"reason": "spam"}))
    assert rows(app, Flag) == 2


def test_flagging_is_limited_per_ip_across_accounts(limited, make_user, targets):
    app = limited(RATELIMIT_FLAG="100 per minute", RATELIMIT_FLAG_IP="3 per minute")
    # One target each: three flags on one comment would send it back to pending (flag_threshold).
    statuses = [client_at(app, user=make_user(f"flagger{n}")).post(
        f"/api/v1/comments/{targets[n]}/flags", {"reason": "spam"}).status_code for n in range(4)]
    assert statuses == [201, 201, 201, 429]


def register(api, name):
    return api.post("/api/v1/auth/register",
                    {"username": name, "email": f"{name}@example.org", "password": PASSWORD})


def test_registration_is_limited_per_ip(limited):
    app = limited(RATELIMIT_REGISTER="2 per minute")
    assert register(client_at(app), "first").status_code == 201
    assert register(client_at(app), "second").status_code == 201
    spoofed = client_at(app)
    response = spoofed.post("/api/v1/auth/register",
                            {"username": "third", "email": "third@example.org", "password": PASSWORD},
                            headers={"X-Forwarded-For": "192.0.2.77", "X-Real-IP": "192.0.2.77"})
    assert_rate_limited(response)
    assert rows(app, User) == 2
    assert register(client_at(app, OTHER_IP), "fourth").status_code == 201


def test_login_failures_are_limited_per_ip_across_accounts(limited, make_user):
    """Password spraying: one wrong password against many names from one address."""
    make_user("alice")
    app = limited(RATELIMIT_LOGIN_FAILURES="100 per 5 minutes", RATELIMIT_LOGIN_FAILURES_IP="3 per 5 minutes")
    sprayer = client_at(app)
    for name in ("alice", "bob", "carol"):
        assert sprayer.post("/api/v1/auth/login", {"login": name, "password": "wrong password!"}).status_code == 401
    assert_rate_limited(sprayer.post("/api/v1/auth/login", {"login": "dave", "password": "wrong password!"}))
    # While it lasts even the right password is refused the same way (no oracle)...
    assert_rate_limited(sprayer.post("/api/v1/auth/login", {"login": "alice", "password": PASSWORD}))
    # ...but only from that address.
    assert client_at(app, OTHER_IP).post("/api/v1/auth/login",
                                         {"login": "alice", "password": PASSWORD}).status_code == 200


def test_successful_logins_do_not_use_up_the_failure_budget(limited, make_user):
    make_user("alice")
    app = limited(RATELIMIT_LOGIN_FAILURES="2 per 5 minutes", RATELIMIT_LOGIN_FAILURES_IP="2 per 5 minutes")
    api = client_at(app)
    for _ in range(4):
        response = api.post("/api/v1/auth/login", {"login": "alice", "password": PASSWORD})
        assert response.status_code == 200
        api.csrf = response.get_json()["csrf_token"]  # a login starts a new session


def test_sso_is_limited_per_ip(limited, config):
    app = limited(RATELIMIT_SSO="2 per minute")

    def sso(api, sub):
        token = jwt.encode({"sub": sub, "username": sub, "exp": int(time.time()) + 300},
                           config["SSO_SECRET"], algorithm="HS256")
        return api.post("/api/v1/auth/sso", {"token": token})

    assert sso(client_at(app), "subscriber1").status_code == 200
    assert sso(client_at(app), "subscriber2").status_code == 200
    assert_rate_limited(sso(client_at(app), "subscriber3"))
    assert rows(app, User) == 2
    assert sso(client_at(app, OTHER_IP), "subscriber3").status_code == 200


def test_moderators_are_exempt(limited, make_user, targets):
    app = limited(RATELIMIT_POST="2 per minute", RATELIMIT_POST_IP="2 per minute",
                  RATELIMIT_VOTE="2 per minute", RATELIMIT_FLAG="1 per minute")
    mod = client_at(app, user=make_user("mod", role="moderator"))
    for n in range(5):
        assert post_comment(mod, f"moderator note {n}").status_code == 201
    for target in targets:
        assert mod.put(f"/api/v1/comments/{target}/vote", {"value": -1}).status_code == 200
    for target in targets[:3]:
        assert mod.post(f"/api/v1/comments/{target}/flags", {"reason": "other"}).status_code == 201
    # A reader on the same address is still held to the limits.
    reader = client_at(app, user=make_user("reader1"))
    assert post_comment(reader, "one").status_code == 201
    assert post_comment(reader, "two").status_code == 201
    assert_rate_limited(post_comment(reader, "three"))


def test_forwarded_for_does_not_reset_limits(limited, make_user, article):
    app = limited(RATELIMIT_POST="2 per minute", RATELIMIT_POST_IP="10 per minute")
    alice = client_at(app, user=make_user("alice"))
    statuses = [alice.post("/api/v1/articles/a1/comments", {"body": f"spoof {n}"},
                           headers={"X-Forwarded-For": f"10.0.0.{n}", "X-Real-IP": f"10.0.0.{n}",
                                    "Forwarded": f"for=10.0.0.{n}"}).status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    # Per address too: a fresh budget of one post, two accounts, each "from" another forwarded address.
    app = limited(RATELIMIT_POST="10 per minute", RATELIMIT_POST_IP="1 per minute")
    socks = [client_at(app, user=make_user(f"sock{n}")) for n in range(2)]
    statuses = [api.post("/api/v1/articles/a1/comments", {"body": f"per ip {n}"},
                         headers={"X-Forwarded-For": f"10.1.0.{n}"}).status_code for n, api in enumerate(socks)]
    assert statuses == [201, 429]


def test_memory_storage_by_default(limited, make_user, article):
    app = limited(RATELIMIT_POST="1 per minute")
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert type(limiter.storage).__name__ == "MemoryStorage"
    alice = make_user("alice")
    assert post_comment(client_at(app, user=alice), "one").status_code == 201
    assert_rate_limited(post_comment(client_at(app, user=alice), "two"))
    # Memory is per process: a new app (a restarted server) starts from zero.
    assert post_comment(client_at(limited(RATELIMIT_POST="1 per minute"), user=alice), "three").status_code == 201


def test_redis_storage_counts_in_redis(limited, make_user, article, redis_client, redis_key_prefix):
    client, prefix = redis_client, redis_key_prefix
    settings = dict(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix, RATELIMIT_POST="2 per minute")
    app = limited(**settings)
    assert type(limiter.storage).__name__ == "RedisStorage"
    alice = make_user("alice")
    for n in range(2):
        assert post_comment(client_at(app, user=alice), f"counted in redis {n}").status_code == 201
    keys = [k.decode() for k in client.scan_iter(match=f"*{prefix}*")]
    assert any("RATELIMIT_POST" in k and f"user:{alice.id}" in k for k in keys), keys
    # Another app (another process, in production) on the same Redis shares the budget.
    assert_rate_limited(post_comment(client_at(limited(**settings), user=alice), "over the shared budget"))
