"""Serving on several machines: two app servers on different ports, one database, one Redis.

A comment posted through one is read through the other, a login made on one
is valid on the other, and the rate limits are one shared budget. Redis must
answer (CI starts it): when it does not, this test fails, it never skips.
"""
import pytest

from .conftest import REDIS_URL
from .servers import (
    AppServer,
    fresh_database,  # noqa: F401 - fixture
    login_user,
    register_user,
)

pytestmark = pytest.mark.slow

def test_two_servers_share_the_database_sessions_and_rate_limits(fresh_database, redis_client,
                                                                  redis_key_prefix, tmp_path):
    settings = dict(ratelimit_enabled=True, storage_uri=REDIS_URL, env={"RATELIMIT_POST": "5 per minute"},
                    app_config={"RATELIMIT_KEY_PREFIX": redis_key_prefix}, workers=2)
    with AppServer(fresh_database, migrate=True, log_dir=tmp_path / "a", **settings) as first, \
            AppServer(fresh_database, log_dir=tmp_path / "b", **settings) as second:
        assert first.port != second.port
        alice = register_user(first.base_url, "alice")
        url = "/api/v1/articles/shared/comments"

        # Written through one, read through the other.
        posted = alice.post(url, {"body": "written on the first server", "title": "Shared",
                                  "url": "https://news.example/shared"})
        assert posted.status_code == 201, posted.text
        comment = posted.json()["comment"]
        seen = alice.on(second.base_url).get(f"/api/v1/comments/{comment['id']}")
        assert seen.status_code == 200
        assert seen.json()["body_html"] == comment["body_html"] == "<p>written on the first server</p>"
        thread = alice.on(second.base_url).get(url).json()
        assert [c["id"] for c in thread["comments"]] == [comment["id"]] and thread["total"] == 1

        # A cookie session made on the first server works on the second, CSRF token included.
        register_user(first.base_url, "bob")
        bob = login_user(first.base_url, "bob")
        bob_there = bob.on(second.base_url)
        assert bob_there.get("/api/v1/auth/me").json()["user"]["username"] == "bob"
        assert bob_there.put(f"/api/v1/comments/{comment['id']}/vote", {"value": 1}).status_code == 200
        assert alice.get(f"/api/v1/comments/{comment['id']}").json()["score"] == 1

        # One budget of 5 posts a minute across both servers: the 6th, on the other server, is refused.
        for n in range(2, 6):
            response = alice.post(url, {"body": f"post {n} on the first server"})
            assert response.status_code == 201, (n, response.text)
        refused = alice.on(second.base_url).post(url, {"body": "post 6 on the second server"})
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited"
        assert refused.headers["Content-Type"].startswith("application/json")
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert alice.post(url, {"body": "post 7 on the first server"}).status_code == 429
        # Another user still has a budget of their own.
        assert bob_there.post(url, {"body": "bob is not throttled"}).status_code == 201

        assert alice.on(second.base_url).get(url).json()["total"] == 6
        # The counters live in Redis, under our prefix.
        assert any(b"RATELIMIT_POST" in key for key in redis_client.scan_iter(match=f"*{redis_key_prefix}*"))
        assert not first.tracebacks() and not second.tracebacks()
