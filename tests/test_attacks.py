"""Access-control, session and hostile-input attacks, from ../shared/corpus/auth-attacks.md (numbers
like 1.3) and bad-requests.md (numbers like W5) -- the cases test_errors.py, test_comments.py and
test_auth.py do not already cover. The oracle: a 4xx with the JSON error shape, nothing stored or
changed (a snapshot of the tables before and after), and the service still answering."""
import base64
import json
import os
import statistics
import time
from functools import cached_property
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, insert, select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.discussion.lifecycle import change_status
from app.extensions import db
from app.models import (
    ApiToken,
    Article,
    Comment,
    Flag,
    LoginSession,
    ModerationEvent,
    User,
    Vote,
)
from app.timeutil import utcnow

from .conftest import ALLOWED_ORIGIN, PASSWORD, ApiClient

EVIL = "https://evil.example"
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


# -- helpers ---------------------------------------------------------------------

def has_route(app, path: str, method: str = "GET") -> bool:
    try:
        app.url_map.bind("localhost").match(path.split("?")[0], method=method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


def assert_error(response, *statuses, code=None):
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json", response.mimetype
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    if code:
        assert error["code"] == code
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "/work/", "SELECT "):
        assert leak not in text
    return error


def snapshot(app) -> dict:
    """Everything an attack could change, to compare before and after."""
    def rows(*columns):
        return sorted(tuple(r) for r in db.session.execute(select(*columns)).all())

    with app.app_context():
        return {
            "comments": rows(Comment.id, Comment.article_id, Comment.parent_id, Comment.author_id, Comment.body,
                             Comment.status, Comment.edited_at, Comment.score, Comment.pinned, Comment.created_at),
            "users": rows(User.id, User.username, User.email, User.role, User.banned_until, User.display_name),
            "articles": rows(Article.key, Article.title, Article.status, Article.moderation, Article.comment_count),
            "votes": rows(Vote.comment_id, Vote.user_id, Vote.value),
            "flags": rows(Flag.comment_id, Flag.user_id, Flag.reason),
            "events": rows(ModerationEvent.id),
            "tokens": rows(ApiToken.id),
        }


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def set_status(app, comment_id: int, status: str) -> None:
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), status)
        db.session.commit()


def post(api, body, key="a1", **fields):
    return api.post(f"/api/v1/articles/{key}/comments", {"body": body, **fields})


def all_ids(data) -> set[int]:
    """Every comment id anywhere in a JSON answer."""
    found, stack = set(), [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "id" in item and "depth" in item:
                found.add(item["id"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class World(SimpleNamespace):
    """Users alice, bob (readers), mod, admin; articles a1, a2; alice's comments in every state."""

    @cached_property
    def as_alice(self):
        return self.login(self.alice)

    @cached_property
    def as_bob(self):
        return self.login(self.bob)

    @cached_property
    def as_mod(self):
        return self.login(self.mod)

    @cached_property
    def as_admin(self):
        return self.login(self.admin)

    @cached_property
    def anonymous(self):
        return self.app.test_client()


@pytest.fixture
def world(app, login, make_user, make_article):
    make_article("a1")
    make_article("a2")
    w = World(app=app, login=login, alice=make_user("alice"), bob=make_user("bob"),
              mod=make_user("mod1", role="moderator"), admin=make_user("boss", role="admin"))
    alice = w.as_alice
    w.live = post(alice, "alice live").get_json()["comment"]["id"]
    w.other_article = post(alice, "alice on a2", key="a2").get_json()["comment"]["id"]
    w.pending = post(alice, "pending secret").get_json()["comment"]["id"]
    w.rejected = post(alice, "rejected secret").get_json()["comment"]["id"]
    w.spam = post(alice, "spam secret").get_json()["comment"]["id"]
    w.deleted = post(alice, "deleted secret").get_json()["comment"]["id"]
    set_status(app, w.pending, "pending")
    set_status(app, w.rejected, "rejected")
    set_status(app, w.spam, "spam")
    assert alice.delete(f"/api/v1/comments/{w.deleted}").status_code == 204
    w.bobs = post(w.as_bob, "bob's own").get_json()["comment"]["id"]
    w.hidden = (w.pending, w.rejected, w.spam, w.deleted)
    w.missing = 987_654
    return w


# -- 1. object-level access (IDOR) -------------------------------------------------------

def test_1_1_and_1_2_another_users_comment_cannot_be_changed(world):
    bob, before = world.as_bob, snapshot(world.app)
    url = f"/api/v1/comments/{world.live}"
    assert_error(bob.patch(url, {"body": "pwned"}), 403)
    assert_error(bob.patch(url, {"body": "pwned", "author_id": world.bob.id}), 403)
    assert_error(bob.put(url, {"body": "pwned"}), 405)
    assert_error(bob.delete(url), 403)
    assert_error(bob.post(url + "/delete"), 404, 405)
    assert snapshot(world.app) == before


def test_1_3_and_1_5_hidden_comments_answer_like_missing_ones(world):
    for viewer in (world.as_bob, world.anonymous):
        missing = viewer.get(f"/api/v1/comments/{world.missing}")
        assert_error(missing, 404)
        for hidden in world.hidden:
            for suffix in ("", "/replies"):
                response = viewer.get(f"/api/v1/comments/{hidden}{suffix}")
                assert response.status_code == 404
                assert response.get_json() == missing.get_json()
        for query in ("status=pending", "status=rejected", "include_deleted=1", f"author_id={world.alice.id}",
                      "status=spam&include_deleted=true"):
            page = viewer.get(f"/api/v1/articles/a1/comments?{query}")
            assert page.status_code == 200
            assert all_ids(page.get_json()) == {world.live, world.bobs}
        # 1.5, bounded: walking the ids finds only what is live.
        found = {n for n in range(1, world.bobs + 3) if viewer.get(f"/api/v1/comments/{n}").status_code == 200}
        assert found == {world.live, world.other_article, world.bobs}


def test_1_4_authors_see_their_own_pending_comment_only(world):
    mine = world.as_alice.get(f"/api/v1/comments/{world.pending}")
    assert mine.status_code == 200 and mine.get_json()["status"] == "pending"
    thread = world.as_alice.get("/api/v1/articles/a1/comments").get_json()
    assert world.pending in all_ids(thread)
    assert not {world.rejected, world.spam, world.deleted} & all_ids(thread)


def test_1_6_only_the_body_of_ones_own_comment_is_editable(world):
    response = world.as_bob.patch(f"/api/v1/comments/{world.bobs}", {
        "body": "edited", "article_id": "a2", "article": "a2", "parent_id": world.live, "status": "rejected",
        "created_at": "2000-01-01T00:00:00Z", "author_id": world.alice.id, "score": 99, "pinned": True})
    assert response.status_code == 200
    with world.app.app_context():
        row = db.session.get(Comment, world.bobs)
        a1 = db.session.scalar(select(Article.id).where(Article.key == "a1"))
        assert (row.body, row.article_id, row.parent_id, row.status, row.author_id, row.score, row.pinned) == (
            "edited", a1, None, "approved", world.bob.id, 0, False)
        assert row.created_at.year > 2000


def anonymous_writes(world):
    writes = [
        ("POST", "/api/v1/articles/a1/comments", {"body": "anon"}),
        ("PATCH", f"/api/v1/comments/{world.live}", {"body": "anon"}),
        ("DELETE", f"/api/v1/comments/{world.live}", None),
        ("PUT", f"/api/v1/comments/{world.live}/vote", {"value": 1}),
        ("POST", f"/api/v1/comments/{world.live}/flags", {"reason": "spam"}),
        ("POST", "/api/v1/auth/tokens", {"name": "anon"}),
        ("DELETE", "/api/v1/auth/tokens/1", None),
        ("PUT", f"/api/v1/users/{world.bob.id}/role", {"role": "admin"}),
        ("PUT", "/api/v1/articles/a9", {"title": "t", "url": f"{ALLOWED_ORIGIN}/a9"}),
        ("PATCH", "/api/v1/articles/a1", {"status": "closed"}),
        ("DELETE", "/api/v1/me", None),
        ("POST", "/api/v1/preview", {"body": "anon"}),
        ("POST", f"/api/v1/moderation/comments/{world.pending}", {"action": "approve"}),
        ("POST", "/api/v1/moderation/bulk", {"ids": [world.pending], "action": "approve"}),
        ("POST", f"/api/v1/moderation/users/{world.alice.id}/ban", {"reason": "x"}),
        ("DELETE", f"/api/v1/moderation/users/{world.alice.id}/ban", None),
        ("PUT", "/api/v1/moderation/settings", {"premoderation": "none"}),
    ]
    return [(m, p, b) for m, p, b in writes if has_route(world.app, p, m)]


def test_1_7_anonymous_writes_are_401_and_change_nothing(world):
    before = snapshot(world.app)
    for method, path, body in anonymous_writes(world):
        assert_error(world.anonymous.open(path, method=method, json=body), 401, code="unauthorized")
    assert_error(world.anonymous.get("/api/v1/me/export"), 401)
    assert snapshot(world.app) == before


def test_1_8_public_listing_holds_no_private_field(world):
    data = world.anonymous.get("/api/v1/articles/a1/comments?replies=500").get_json()
    text = json.dumps(data)
    for secret in ("@example.org", "password", "scrypt"):
        assert secret not in text, secret
    keys, stack = set(), [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys |= set(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    assert not keys & {"email", "ip", "ip_address", "user_agent", "password_hash", "session", "banned_until",
                       "body", "open_flags", "flags", "reasons", "ban_reason"}
    for comment in data["comments"]:
        assert set(comment["author"]) == {"id", "username", "display_name"}
        assert "body" not in comment


def test_1_10_votes_on_hidden_comments_are_404(world):
    before = snapshot(world.app)
    for hidden in world.hidden:
        assert_error(world.as_bob.put(f"/api/v1/comments/{hidden}/vote", {"value": 1}), 404)
        assert_error(world.as_bob.post(f"/api/v1/comments/{hidden}/flags", {"reason": "spam"}), 404)
    assert snapshot(world.app) == before


# -- 2. function-level access ---------------------------------------------------------------

def moderator_requests(world):
    requests_ = [
        ("GET", "/api/v1/moderation/queue", None),
        ("GET", "/api/v1/moderation/queue?queue=rejected", None),
        ("GET", "/api/v1/moderation/log", None),
        ("GET", "/api/v1/moderation/settings", None),
        ("GET", "/api/v1/articles", None),
        ("PATCH", "/api/v1/articles/a1", {"status": "closed"}),
        ("PUT", "/api/v1/articles/a1", {"title": "mine", "url": f"{ALLOWED_ORIGIN}/a1"}),
        ("PUT", f"/api/v1/users/{world.bob.id}/role", {"role": "admin"}),
    ]
    return [(m, p, b) for m, p, b in requests_ if has_route(world.app, p, m)] + [
        (m, p, b) for m, p, b in anonymous_writes(world) if "/moderation/" in p]


def test_2_1_moderator_endpoints_refuse_readers_and_anonymous(world):
    before = snapshot(world.app)
    for method, path, body in moderator_requests(world):
        assert_error(world.as_bob.client.open(path, method=method, json=body,
                                              headers={"X-CSRF-Token": world.as_bob.csrf}), 403, code="forbidden")
        assert_error(world.anonymous.open(path, method=method, json=body), 401)
    assert snapshot(world.app) == before


def test_2_2_dashboard_page_refuses_readers(world):
    if not has_route(world.app, "/moderation"):
        assert_error(world.as_bob.get("/moderation", headers={"Accept": "application/json"}), 404)
        return
    page = world.as_bob.get("/moderation")
    assert page.status_code == 403
    assert "pending secret" not in page.get_data(as_text=True)
    anonymous = world.anonymous.get("/moderation")
    assert anonymous.status_code in (302, 303) and anonymous.headers["Location"].startswith("/login")


def test_2_3_role_comes_from_the_server_only(world):
    path = "/api/v1/moderation/queue" if has_route(world.app, "/api/v1/moderation/queue") else "/api/v1/articles"
    tricks = [{"X-Role": "moderator"}, {"X-User-Id": str(world.mod.id)}, {"X-Forwarded-For": "127.0.0.1"},
              {"X-Original-URL": "/moderation"}, {"X-Rewrite-URL": "/moderation"}, {"X-Roles": "admin"}]
    for headers in tricks:
        assert_error(world.as_bob.get(path, headers=headers), 403)
    for query in ("as=mod1", "debug=1", "role=admin", f"user_id={world.mod.id}"):
        assert_error(world.as_bob.get(f"{path}?{query}"), 403)


def test_2_4_path_tricks_never_give_the_data(world):
    for path in ("/api/v1/Moderation/queue", "/api/v1/moderation/queue/", "/api/v1/./moderation/queue",
                 "/api/v1/moderation%2Fqueue", "/api/v1/moderation/queue;x", "/api/v1/moderation/queue.json",
                 "/API/V1/moderation/queue", "/api/v1/moderation/QUEUE", "/api/v1/articles/"):
        response = world.as_bob.get(path)
        assert response.status_code in (403, 404, 405, 308), (path, response.status_code)
        assert "pending secret" not in response.get_data(as_text=True)


def test_2_6_head_and_options_are_no_bypass(world):
    path = "/api/v1/moderation/queue" if has_route(world.app, "/api/v1/moderation/queue") else "/api/v1/articles"
    head = world.as_bob.client.head(path)
    assert head.status_code == 403 and head.get_data() == b""
    options = world.as_bob.client.options(path)
    assert "pending secret" not in options.get_data(as_text=True)
    assert "a1" not in options.get_data(as_text=True)


# -- 3. CSRF --------------------------------------------------------------------------------

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
    before = snapshot(world.app)
    assert_error(world.as_bob.post("/api/v1/articles/a1/comments", {"body": "from elsewhere"}, headers=headers),
                 403, code="csrf_failed")
    assert_error(world.as_bob.put(f"/api/v1/comments/{world.live}/vote", {"value": 1}, headers=headers),
                 403, code="csrf_failed")
    assert snapshot(world.app) == before


def test_3_4_an_allowed_host_site_with_the_token_may_write(world):
    response = world.as_bob.post("/api/v1/articles/a1/comments", {"body": "from the host site"},
                                 headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 201


def test_3_5_get_never_changes_state(world):
    before = snapshot(world.app)
    assert_error(world.as_alice.get(f"/api/v1/comments/{world.live}/delete"), 404)
    assert_error(world.as_alice.get("/api/v1/auth/logout"), 405)
    assert_error(world.as_mod.get(f"/moderation/approve?id={world.pending}",
                                  headers={"Accept": "application/json"}), 404)
    assert_error(world.as_mod.get(f"/api/v1/moderation/comments/{world.pending}"), 404, 405)
    assert snapshot(world.app) == before
    assert world.as_alice.get("/api/v1/auth/me").get_json()["user"]["username"] == "alice"


def test_3_6_token_is_stable_within_a_session_and_long(world):
    api = world.as_bob
    first = api.get("/api/v1/auth/me").get_json()["csrf_token"]
    assert api.get("/api/v1/auth/me").get_json()["csrf_token"] == first == api.csrf
    assert len(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))) >= 16


def test_3_7_cross_site_login_with_an_existing_session_is_refused(world):
    api = world.login()  # has an anonymous session cookie, as a returning visitor's browser would
    before = count(world.app, LoginSession)
    response = api.client.post("/api/v1/auth/login", json={"login": "bob", "password": PASSWORD},
                               headers={"Origin": EVIL})
    assert_error(response, 403, code="csrf_failed")
    assert count(world.app, LoginSession) == before


def test_3_7_cross_site_login_without_any_cookie_is_refused(world):
    response = world.app.test_client().post("/api/v1/auth/login", json={"login": "bob", "password": PASSWORD},
                                            headers={"Origin": EVIL})
    assert_error(response, 403, code="csrf_failed")


# -- 4. sessions ------------------------------------------------------------------------------

def test_4_1_the_pre_login_cookie_never_becomes_authenticated(world):
    api = world.login()
    before = api.client.get_cookie("causerie_session").value
    response = api.post("/api/v1/auth/login", {"login": "bob", "password": PASSWORD})
    assert response.status_code == 200
    assert api.client.get_cookie("causerie_session").value != before
    replay = world.app.test_client()
    replay.set_cookie("causerie_session", before)
    assert replay.get("/api/v1/auth/me").get_json()["user"] is None


def test_4_2_a_copied_cookie_cannot_write_after_logout(world):
    api = world.login(world.bob)
    cookie, token = api.client.get_cookie("causerie_session").value, api.csrf
    assert api.post("/api/v1/auth/logout").status_code == 204
    replay = ApiClient(world.app.test_client())
    replay.client.set_cookie("causerie_session", cookie)
    replay.csrf = token
    before = snapshot(world.app)
    assert_error(post(replay, "after logout"), 401)
    assert_error(replay.put(f"/api/v1/comments/{world.live}/vote", {"value": 1}), 401)
    assert snapshot(world.app) == before


def test_4_4_a_demoted_moderator_loses_moderator_powers_at_once(world):
    mod = world.as_mod
    assert mod.patch(f"/api/v1/comments/{world.live}", {"body": "moderated"}).status_code == 200
    with world.app.app_context():
        db.session.get(User, world.mod.id).role = "reader"
        db.session.commit()
    before = snapshot(world.app)
    assert_error(mod.patch(f"/api/v1/comments/{world.live}", {"body": "again"}), 403)
    assert_error(mod.patch("/api/v1/articles/a1", {"status": "closed"}), 403)
    if has_route(world.app, f"/api/v1/moderation/users/{world.alice.id}/ban", "POST"):
        assert_error(mod.post(f"/api/v1/moderation/users/{world.alice.id}/ban", {"reason": "x"}), 403)
    assert snapshot(world.app) == before


def test_4_6_and_4_7_tampered_or_forged_cookies_are_anonymous(world):
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


# -- 8. user enumeration -------------------------------------------------------------------

def test_8_1_unknown_user_and_wrong_password_look_the_same(world):
    unknown = world.login().post("/api/v1/auth/login", {"login": "nobody", "password": PASSWORD})
    wrong = world.login().post("/api/v1/auth/login", {"login": "alice", "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()
    ignore = {"Date", "Content-Length"}
    assert set(unknown.headers.keys()) - ignore == set(wrong.headers.keys()) - ignore
    assert ("Set-Cookie" in unknown.headers) == ("Set-Cookie" in wrong.headers)


def test_8_2_unknown_user_and_wrong_password_take_as_long(world):
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
    body = {"password": PASSWORD}
    by_name = world.login().post("/api/v1/auth/register", {**body, "username": "alice", "email": "new@example.org"})
    by_email = world.login().post("/api/v1/auth/register", {**body, "username": "newbie", "email": "alice@example.org"})
    assert by_name.status_code == by_email.status_code == 409
    assert by_name.get_json() == by_email.get_json()


def test_8_5_login_normalizes_like_registration(world):
    for login in ("ALICE", " alice ", "Alice@Example.org"):
        assert world.login().post("/api/v1/auth/login", {"login": login, "password": PASSWORD}).status_code == 200
    generic = world.login().post("/api/v1/auth/login", {"login": "nobody", "password": PASSWORD}).get_json()
    fullwidth = world.login().post("/api/v1/auth/login", {"login": "ａｌｉｃｅ", "password": PASSWORD})
    assert fullwidth.status_code in (200, 401)
    if fullwidth.status_code == 401:
        assert fullwidth.get_json() == generic


# -- 9. mass assignment -------------------------------------------------------------------

def test_9_1_and_9_4_registration_assigns_nothing_but_its_fields(world):
    api = world.login()
    response = api.post("/api/v1/auth/register", {
        "username": "eve", "email": "eve@example.org", "password": PASSWORD, "role": "moderator",
        "Role": "admin", "role ": "admin", "is_admin": True, "is_moderator": True, "roles": ["admin"],
        "banned": False, "banned_until": None, "email_verified": True, "id": 4242, "created_at": "2000-01-01",
        "sso_sub": "victim", "password_hash": "x", "user": {"role": "moderator"}, "rank": 2})
    assert response.status_code == 201
    assert response.get_json()["user"]["role"] == "reader"
    with world.app.app_context():
        eve = db.session.scalar(select(User).where(User.username == "eve"))
        assert (eve.role, eve.sso_sub, eve.banned_until) == ("reader", None, None)
        assert eve.id != 4242 and eve.created_at.year > 2000 and eve.password_hash.startswith("scrypt:")
    assert_error(world.login().post("/api/v1/auth/register", [{"role": "admin"}]), 400)


def test_9_5_moderators_cannot_raise_themselves_or_act_on_peers(world):
    before = snapshot(world.app)
    mod = world.as_mod
    assert_error(mod.put(f"/api/v1/users/{world.mod.id}/role", {"role": "admin"}), 403)
    if has_route(world.app, f"/api/v1/moderation/users/{world.admin.id}/ban", "POST"):
        assert_error(mod.post(f"/api/v1/moderation/users/{world.admin.id}/ban", {"reason": "coup"}), 403)
        assert_error(mod.post(f"/api/v1/moderation/users/{world.mod.id}/ban", {"reason": "self"}), 403)
    assert snapshot(world.app) == before


# -- 12. open redirect via next -------------------------------------------------------------

REDIRECTS = [
    "https://evil.example", "//evil.example", "///evil.example", "////evil.example", "/\\evil.example",
    "\\/evil.example", "/\\/evil.example", "\\\\evil.example", "https:evil.example", "http:/evil.example",
    "/%2Fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%09/evil.example", "/\t/evil.example",
    " //evil.example", "https://example.com@evil.example", "https://evil.example#@example.com",
    "https://evil.example?.example.com", "https://example.com.evil.example", "https://evilexample.com",
    "http://127.0.0.1.nip.io", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java%0ascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "/\r\nSet-Cookie: a=b", "%0d%0aLocation:%20https://evil.example",
]


def test_12_the_json_api_never_redirects(world):
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


def test_12_login_page_falls_back_to_the_default_next(world):
    if not has_route(world.app, "/login"):
        pytest.skip("no /login page in this checkout")  # the dashboard issue brings it
    from app.views.dashboard import safe_next
    for value in REDIRECTS:
        assert safe_next(value) == "/", value
        page = world.anonymous.get(f"/login?next={quote(value)}")
        assert page.status_code == 200 and "Location" not in page.headers
        assert "evil" not in page.get_data(as_text=True).lower(), value
    assert safe_next("/articles/A1#comments") == "/articles/A1#comments"


# -- 10. CORS -----------------------------------------------------------------------------

def test_10_no_credentialed_cors_for_any_origin(world):
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


# -- 13. banned users -----------------------------------------------------------------------

def ban(world, user):
    if has_route(world.app, f"/api/v1/moderation/users/{user.id}/ban", "POST"):
        assert world.as_mod.post(f"/api/v1/moderation/users/{user.id}/ban", {"reason": "abuse"}).status_code == 200
    else:
        with world.app.app_context():
            db.session.get(User, user.id).banned_until = utcnow().replace(year=9999)
            db.session.commit()


def unban(world, user):
    if has_route(world.app, f"/api/v1/moderation/users/{user.id}/ban", "DELETE"):
        assert world.as_mod.delete(f"/api/v1/moderation/users/{user.id}/ban").status_code == 204
    else:
        with world.app.app_context():
            db.session.get(User, user.id).banned_until = None
            db.session.commit()


def banned_writes(world):
    writes = [
        ("POST", "/api/v1/articles/a1/comments", {"body": "banned post"}),
        ("POST", "/api/v1/articles/a1/comments", {"body": "banned reply", "parent_id": world.live}),
        ("PATCH", f"/api/v1/comments/{world.bobs}", {"body": "banned edit"}),
        ("DELETE", f"/api/v1/comments/{world.bobs}", None),
        ("PUT", f"/api/v1/comments/{world.live}/vote", {"value": -1}),
        ("POST", f"/api/v1/comments/{world.live}/flags", {"reason": "abuse"}),
        ("POST", "/api/v1/preview", {"body": "banned preview"}),
    ]
    return [(m, p, b) for m, p, b in writes if has_route(world.app, p, m)]


def test_13_banned_users_cannot_act_with_any_credential(world):
    session = world.as_bob  # a live session from before the ban
    token = session.post("/api/v1/auth/tokens", {"name": "before the ban"}).get_json()["token"]
    ban(world, world.bob)
    before = snapshot(world.app)
    bearer = world.app.test_client()
    for method, path, body in banned_writes(world):
        assert_error(session.client.open(path, method=method, json=body,
                                          headers={"X-CSRF-Token": session.csrf}), 403, code="banned")
        assert_error(bearer.open(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}),
                     403, code="banned")
    fresh = world.login()
    response = fresh.post("/api/v1/auth/login", {"login": "bob", "password": PASSWORD})
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        fresh.csrf = response.get_json()["csrf_token"]
        assert_error(post(fresh, "after a fresh login"), 403, code="banned")
    assert snapshot(world.app) == before
    # 13.6: unbanned, the same session writes again.
    unban(world, world.bob)
    assert post(session, "back again").status_code == 201


# -- bad-requests.md: bodies and fields ---------------------------------------------------

def test_w5_unknown_fields_are_ignored_and_the_server_decides(world):
    response = post(world.as_bob, "hi", status="approved", author_id=world.alice.id, user_id=world.alice.id,
                    id=999, article_id="a2", created_at="2000-01-01", score=1000, is_pinned=True,
                    html="<script>alert(1)</script>", ip="1.2.3.4")
    assert response.status_code == 201
    comment = response.get_json()["comment"]
    with world.app.app_context():
        row = db.session.get(Comment, comment["id"])
        a1 = db.session.scalar(select(Article.id).where(Article.key == "a1"))
        assert (row.author_id, row.article_id, row.score, row.pinned) == (world.bob.id, a1, 0, False)
        assert row.id != 999 and row.created_at.year > 2000 and row.body_html == "<p>hi</p>"


@pytest.mark.parametrize("body", ["<p></p>", "<script></script>"])
def test_w6_markup_only_bodies_are_refused_or_shown_as_text(world, body):
    response = post(world.as_bob, body)
    if response.status_code == 201:
        html = response.get_json()["comment"]["body_html"]
        assert "&lt;" in html and "<script" not in html and "<p></p>" not in html
    else:
        assert_error(response, 400, 422)


@pytest.mark.parametrize("fmt", ["html", "raw", "../../x"])
def test_w7_formats_other_than_markdown_are_never_used(world, fmt):
    response = post(world.as_bob, f"<b>bold</b> {fmt}", format=fmt)
    if response.status_code == 201:
        assert "<b>" not in response.get_json()["comment"]["body_html"]
    else:
        assert_error(response, 400, 422)


def test_p9_limits_are_clamped_never_all_rows(world):
    with world.app.app_context():
        a1 = db.session.scalar(select(Article.id).where(Article.key == "a1"))
        now = utcnow()
        db.session.execute(insert(Comment), [
            {"article_id": a1, "author_id": world.alice.id, "body": f"bulk {i}", "body_html": f"<p>bulk {i}</p>",
             "status": "approved", "depth": 0, "created_at": now, "decided_at": now} for i in range(205)])
        db.session.commit()
    for query in ("limit=1000000", "limit=10&limit=100000", "limit[]=1", "limit=200"):
        response = world.anonymous.get(f"/api/v1/articles/a1/comments?{query}&replies=0")
        assert response.status_code == 200, query
        data = response.get_json()
        assert len(data["comments"]) <= 200 and data["next"]


def test_p10_cursors_are_opaque_and_checked(world):
    for i in range(3):
        post(world.as_alice, f"page {i}")
    first = world.anonymous.get("/api/v1/articles/a1/comments?limit=2").get_json()
    cursor = first["next"]
    assert cursor
    forged_json = base64.urlsafe_b64encode(json.dumps({"id": "1 OR 1=1"}).encode()).decode()
    flipped = cursor[:-3] + ("x" if cursor[-3] != "x" else "y") + cursor[-2:]
    for bad in (forged_json, flipped, "not-base64!!", cursor + "A", "e30"):
        assert_error(world.anonymous.get(f"/api/v1/articles/a1/comments?after={quote(bad)}"), 400)
    for ignored in ("page=-1", "page=0", "page=99999999999999999999", "cursor=not-base64"):
        assert world.anonymous.get(f"/api/v1/articles/a1/comments?{ignored}").status_code == 200
    # A cursor of one list is refused by another.
    assert_error(world.anonymous.get(f"/api/v1/comments/{world.live}/replies?after={cursor}"), 400)


def test_p11_sort_and_fields_come_from_an_allowlist(world):
    assert_error(world.anonymous.get("/api/v1/articles/a1/comments?sort=" + quote("created_at;DROP TABLE comments")),
                 422)
    for query in ("order=desc,(select 1)", "fields=author.email", "sort=oldest&order=password_hash"):
        response = world.anonymous.get(f"/api/v1/articles/a1/comments?{query}")
        assert response.status_code == 200 and "@example.org" not in response.get_data(as_text=True)
    assert count(world.app, Comment) > 0


def test_r3_parents_cannot_be_rewired_into_a_cycle(world):
    alice = world.as_alice
    c1 = post(alice, "c1").get_json()["comment"]["id"]
    c3 = post(alice, "c3", parent_id=c1).get_json()["comment"]["id"]
    for target, parent in ((c1, c3), (c1, c1)):
        response = alice.patch(f"/api/v1/comments/{target}", {"body": f"rewired {target}", "parent_id": parent})
        assert response.status_code in (200, 400, 422)
    with world.app.app_context():
        assert db.session.get(Comment, c1).parent_id is None
        assert db.session.get(Comment, c3).parent_id == c1
    assert world.anonymous.get("/api/v1/articles/a1/comments?replies=500").status_code == 200


def test_r5_and_r6_hidden_or_deleted_parents_answer_like_missing_ones(world):
    before = snapshot(world.app)
    missing = post(world.as_bob, "reply to nothing", parent_id=world.missing)
    assert_error(missing, 404, 422)
    for parent in world.hidden:
        response = post(world.as_bob, f"reply to {parent}", parent_id=parent)
        assert response.status_code == missing.status_code
        assert response.get_json() == missing.get_json()
        assert "secret" not in response.get_data(as_text=True)
    assert snapshot(world.app) == before


BIG_IDS = [2**31, 2**53 + 1, 2**63 - 1]


def test_w4_p2_ids_beyond_the_column_range_are_404_or_422(world):
    before = snapshot(world.app)
    bob, mod, admin = world.as_bob, world.as_mod, world.as_admin
    for big in BIG_IDS:
        calls = [
            (world.anonymous.get, f"/api/v1/comments/{big}", None),
            (world.anonymous.get, f"/api/v1/comments/{big}/replies", None),
            (bob.patch, f"/api/v1/comments/{big}", {"body": "x"}),
            (bob.delete, f"/api/v1/comments/{big}", None),
            (bob.put, f"/api/v1/comments/{big}/vote", {"value": 1}),
            (bob.post, f"/api/v1/comments/{big}/flags", {"reason": "spam"}),
            (bob.delete, f"/api/v1/auth/tokens/{big}", None),
            (admin.put, f"/api/v1/users/{big}/role", {"role": "reader"}),
            (bob.post, "/api/v1/articles/a1/comments", {"body": f"reply to {big}", "parent_id": big}),
            (mod.post, f"/api/v1/moderation/comments/{big}", {"action": "approve"}),
            (mod.post, "/api/v1/moderation/bulk", {"ids": [big], "action": "approve"}),
            (mod.post, f"/api/v1/moderation/users/{big}/ban", {"reason": "x"}),
            (mod.delete, f"/api/v1/moderation/users/{big}/ban", None),
            (mod.get, f"/api/v1/moderation/log?comment={big}", None),
            (mod.get, f"/api/v1/moderation/log?user={big}", None),
            (mod.get, f"/api/v1/moderation/log?actor={big}", None),
        ]
        for call, path, body in calls:
            if not has_route(world.app, path, call.__name__.upper()):
                continue
            response = call(path, body) if body is not None else call(path)
            if response.status_code != 200:  # a log filter on an unknown id may simply be empty
                assert_error(response, 404, 422)
    assert snapshot(world.app) == before


def test_r10_a_deleted_comment_cannot_be_edited(world):
    before = snapshot(world.app)
    assert_error(world.as_alice.patch(f"/api/v1/comments/{world.deleted}", {"body": "resurrected"}), 404, 409)
    assert snapshot(world.app) == before


def test_u3_u4_unusual_characters_round_trip(world):
    for body in ("\ufffe\uffff\U0010ffff\ue000 odd", "💩 𝕏 four bytes"):
        response = post(world.as_bob, body)
        assert response.status_code in (201, 422)
        if response.status_code == 201:
            comment_id = response.get_json()["comment"]["id"]
            assert world.as_bob.get(f"/api/v1/comments/{comment_id}").get_json()["body"] == body
    assert world.as_bob.get("/api/v1/articles/a1/comments").status_code == 200


def test_u8_combining_marks_count_as_code_points(world):
    assert post(world.as_bob, "e" + "\u0301" * 1000).status_code == 201
    assert_error(post(world.as_bob, "e" + "\u0301" * 10_001), 422)


BAD_USERNAMES = [
    "admin\u202e", "ad\u2066min", "ad\u200bmin", "admin\u2060", "ad\u00admin", "\u180e\u180e\u180e",
    "\u200b\u200b\u200b",
    "ａｄｍｉｎ", "ADMIN", "admın", "ǅǅǅ", "\ufeffbobby", "josé", "jose\u0301", "😀😀😀", "   ", "",
    "ab", "x" * 1000, "administrator", "mod", "system", "root", "support", "staff", "null", "undefined",
    "none", "anonymous", "[deleted]", "me", "api", "login", "Admin", "_admin_",
    "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "{{7*7}}", "${7*7}",
    "../admin", "a/b", "a?b#c", "a%2Fb", "@everyone", "a@b.c", "bo b",
]


@pytest.mark.parametrize("username", BAD_USERNAMES, ids=range(len(BAD_USERNAMES)))
def test_u5_to_u12_n1_to_n5_bad_usernames_are_422(world, username):
    users = count(world.app, User)
    response = world.login().post("/api/v1/auth/register",
                                  {"username": username, "email": "new@example.org", "password": PASSWORD})
    error = assert_error(response, 422, code="validation_error")
    assert "username" in error["fields"]
    assert count(world.app, User) == users


def test_n1_n2_username_edges(world):
    def register(name, email):
        return world.login().post("/api/v1/auth/register", {"username": name, "email": email, "password": PASSWORD})

    assert register("x" * 32, "max@example.org").status_code == 201
    start = time.perf_counter()
    assert_error(register("x" * 1_000_000, "huge@example.org"), 413, 422)
    assert time.perf_counter() - start < 3
    assert register(" spaced ", "spaced@example.org").status_code in (201, 422)
    with world.app.app_context():
        trimmed = db.session.scalar(select(User.id).where(User.username == "spaced"))
        assert db.session.scalar(select(User.id).where(User.username == " spaced ")) is None
    if trimmed:  # " spaced " became "spaced": the bare name is then taken, never two accounts
        assert_error(register("spaced", "spaced2@example.org"), 409)


@pytest.mark.parametrize("char", ["\r\n", "\n", "\r", "\t", "\v", "\f", "\x85", "\u2028", "\u2029", "\x00"])
def test_u9_h1_h3_h4_line_breaks_in_one_line_fields_are_422(world, char):
    before = snapshot(world.app)
    value = f"Bob{char}Set-Cookie: session=evil{char}2026-01-01 INFO admin logged in"
    attempts = [
        world.login().post("/api/v1/auth/register", {"username": "newbie", "email": "newbie@example.org",
                                                      "password": PASSWORD, "display_name": value}),
        world.as_bob.post("/api/v1/auth/tokens", {"name": value}),
        world.as_bob.post(f"/api/v1/comments/{world.live}/flags", {"reason": "other", "note": value}),
        world.as_admin.put("/api/v1/articles/fresh", {"title": value, "url": f"{ALLOWED_ORIGIN}/fresh"}),
        post(world.as_bob, "implicit", key="fresh2", title=value, url=f"{ALLOWED_ORIGIN}/fresh2"),
    ]
    for response in attempts:
        assert_error(response, 422)
        assert all("evil" not in v for v in response.headers.values())
    assert snapshot(world.app) == before


@pytest.mark.parametrize("email", [
    "a@example.org\r\nBcc: x@evil.example", "a@example.org%0d%0aBcc:x@evil.example", "a@example.org\nSubject: hi",
    "a@b", "a@localhost", "a@[127.0.0.1]", '"a b"@example.org', "a(comment)@example.org", "a@@example.org",
    "a@" + "d" * 250 + ".org", "a@example.org.", "", "plainaddress",
])
def test_h2_h5_bad_emails_are_422(world, email):
    users = count(world.app, User)
    response = world.login().post("/api/v1/auth/register",
                                  {"username": "newbie", "email": email, "password": PASSWORD})
    assert_error(response, 422)
    assert count(world.app, User) == users


@pytest.mark.parametrize("email", ["a@xn--80ak6aa92e.com", "l" * 65 + "@example.org", "a+tag@example.org"])
def test_h5_edge_emails_are_a_policy_never_a_500(world, email):
    response = world.login().post("/api/v1/auth/register",
                                  {"username": "edgy", "email": email, "password": PASSWORD})
    if response.status_code != 201:
        assert_error(response, 422)


def test_n6_password_policy_and_no_truncation(world):
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


SQL_STRINGS = [
    "'", "''", '"', "\\", "\\'", "' OR '1'='1", "' OR 1=1--", '" OR ""="', "') OR ('1'='1", "1 OR 1=1",
    "1' ORDER BY 100--", "1 UNION SELECT NULL,NULL,NULL--", "' UNION SELECT username, password_hash FROM users--",
    "1; DROP TABLE comments--", "'; UPDATE users SET role='admin' WHERE username='me'--", "1' AND SLEEP(5)--",
    "1' AND pg_sleep(5)--", "1); SELECT pg_sleep(5)--", "1' AND 1=CAST((SELECT version()) AS int)--",
    "' || (SELECT 'a') || '", "%' OR '%'='", "%", "_", "[a-z]%", "\\x00", "$where: '1 == 1'", '{"$gt": ""}',
    '{"$ne": null}', "*)(uid=*))(|(uid=*",
]


def timed(call):
    start = time.perf_counter()
    response = call()
    assert time.perf_counter() - start < 3, "a request took 3 s or more"
    assert response.status_code < 500
    return response


def test_sql_strings_are_stored_literally_and_change_nothing_else(world):
    bob, anonymous = world.as_bob, world.anonymous
    users, articles = count(world.app, User), count(world.app, Article)
    created = []
    for n, text in enumerate(SQL_STRINGS):
        response = timed(lambda: post(bob, f"{text} #{n}"))
        assert response.status_code == 201, (text, response.get_json())
        created.append((response.get_json()["comment"]["id"], f"{text} #{n}"))
        timed(lambda: world.login().post("/api/v1/auth/register", {
            "username": text, "email": f"{text}@example.org", "password": PASSWORD}))
        key_path = f"/api/v1/articles/{quote(text, safe='')}/comments"
        assert timed(lambda: anonymous.get(key_path)).status_code in (400, 404)
        assert_error(timed(lambda: post(bob, "typed field", parent_id=text)), 422)
        for name in ("limit", "sort", "after", "replies"):
            query = f"/api/v1/articles/a1/comments?{name}={quote(text)}"
            assert timed(lambda: anonymous.get(query)).status_code in (400, 422)
        headers = {"X-Forwarded-For": text, "User-Agent": text, "Referer": text}
        assert timed(lambda: anonymous.get("/api/v1/articles/a1/comments", headers=headers)).status_code == 200
    with world.app.app_context():
        for comment_id, body in created:
            assert db.session.get(Comment, comment_id).body == body
    # Only registrations that were valid names created users (none of these are), no article appeared.
    assert count(world.app, User) == users
    assert count(world.app, Article) == articles
    for comment_id, body in created:
        assert bob.get(f"/api/v1/comments/{comment_id}").get_json()["body"] == body


# -- bad-requests.md: methods -----------------------------------------------------------

def test_m1_wrong_methods_are_405_with_allow(world):
    for method in ("PUT", "DELETE", "PATCH"):
        response = world.as_bob.client.open("/api/v1/articles/a1/comments", method=method, json={"body": "x"},
                                            headers={"X-CSRF-Token": world.as_bob.csrf})
        assert_error(response, 405, code="method_not_allowed")
        assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_m2_odd_methods_are_refused(world):
    for method in ("CONNECT", "PROPFIND", "TRACK", "DEBUG"):
        assert_error(world.as_bob.client.open(f"/api/v1/comments/{world.live}", method=method), 400, 405)


def test_m3_method_overrides_are_ignored(world):
    before = snapshot(world.app)
    bob_comment = f"/api/v1/comments/{world.bobs}"
    assert_error(world.as_bob.post(bob_comment, {"body": "x"}, headers={"X-HTTP-Method-Override": "DELETE"}), 405)
    assert_error(world.as_bob.post(f"{bob_comment}?_method=DELETE", {"body": "x"}), 405)
    read = world.as_bob.client.get(f"{bob_comment}?_method=DELETE", headers={"X-HTTP-Method-Override": "DELETE"})
    assert read.status_code == 200
    assert snapshot(world.app) == before


def test_m4_head_on_lists_has_no_body_and_no_side_effect(world):
    before = snapshot(world.app)
    for path in ("/api/v1/articles/a1/comments", f"/api/v1/comments/{world.live}/replies", "/api/v1/counts?keys=a1"):
        get, head = world.anonymous.get(path), world.anonymous.head(path)
        assert head.status_code == get.status_code == 200
        assert head.get_data() == b""
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
    head = world.anonymous.head(f"/api/v1/articles/new-one/comments?url={ALLOWED_ORIGIN}/new-one&title=x")
    assert head.status_code == 404
    assert snapshot(world.app) == before


def test_m5_get_never_deletes_or_approves(world):
    before = snapshot(world.app)
    for path in (f"/api/v1/comments/{world.bobs}/delete", f"/api/v1/moderation/approve?id={world.pending}",
                 f"/moderation/approve?id={world.pending}", f"/api/v1/comments/{world.bobs}?action=delete"):
        response = world.as_mod.get(path, headers={"Accept": "application/json"})
        assert response.status_code in (200, 404, 405), path
    assert snapshot(world.app) == before


def test_l3_the_same_body_five_times_is_stored_once(world):
    statuses = [post(world.as_bob, "buy cheap watches").status_code for _ in range(5)]
    assert statuses == [201, 409, 409, 409, 409]
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).where(Comment.body == "buy cheap watches")) == 1
