"""Who may read and change what: other users' comments, hidden comments, anonymous writes, moderator
endpoints, demoted and banned accounts (auth-attacks.md 1, 2, 4.4, 9.5 and 13). The oracle: a 4xx with the
JSON error shape, nothing stored or changed (a snapshot of the tables before and after)."""
import json

from app.extensions import db
from app.models import User
from app.timeutil import utcnow

from .conftest import ALLOWED_ORIGIN, PASSWORD
from .factories import all_ids, assert_error, has_route, post_comment, snapshot


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


def test_1_1_and_1_2_another_users_comment_cannot_be_changed(world):
    """auth-attacks.md 1.1, 1.2."""
    bob, before = world.as_bob, snapshot(world.app)
    url = f"/api/v1/comments/{world.live}"
    assert_error(bob.patch(url, {"body": "pwned"}), 403)
    assert_error(bob.patch(url, {"body": "pwned", "author_id": world.bob.id}), 403)
    assert_error(bob.put(url, {"body": "pwned"}), 405)
    assert_error(bob.delete(url), 403)
    assert_error(bob.post(url + "/delete"), 404, 405)
    assert snapshot(world.app) == before


def test_1_3_and_1_5_hidden_comments_answer_like_missing_ones(world):
    """auth-attacks.md 1.3, 1.5."""
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
    """auth-attacks.md 1.4."""
    mine = world.as_alice.get(f"/api/v1/comments/{world.pending}")
    assert mine.status_code == 200 and mine.get_json()["status"] == "pending"
    thread = world.as_alice.get("/api/v1/articles/a1/comments").get_json()
    assert world.pending in all_ids(thread)
    assert not {world.rejected, world.spam, world.deleted} & all_ids(thread)


def test_1_7_anonymous_writes_are_401_and_change_nothing(world):
    """auth-attacks.md 1.7."""
    before = snapshot(world.app)
    for method, path, body in anonymous_writes(world):
        assert_error(world.anonymous.open(path, method=method, json=body), 401, code="unauthorized")
    assert_error(world.anonymous.get("/api/v1/me/export"), 401)
    assert snapshot(world.app) == before


def test_1_8_public_listing_holds_no_private_field(world):
    """auth-attacks.md 1.8."""
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
    """auth-attacks.md 1.10."""
    before = snapshot(world.app)
    for hidden in world.hidden:
        assert_error(world.as_bob.put(f"/api/v1/comments/{hidden}/vote", {"value": 1}), 404)
        assert_error(world.as_bob.post(f"/api/v1/comments/{hidden}/flags", {"reason": "spam"}), 404)
    assert snapshot(world.app) == before


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
    """auth-attacks.md 2.1."""
    before = snapshot(world.app)
    for method, path, body in moderator_requests(world):
        assert_error(world.as_bob.client.open(path, method=method, json=body,
                                              headers={"X-CSRF-Token": world.as_bob.csrf}), 403, code="forbidden")
        assert_error(world.anonymous.open(path, method=method, json=body), 401)
    assert snapshot(world.app) == before


def test_2_3_role_comes_from_the_server_only(world):
    """auth-attacks.md 2.3."""
    path = "/api/v1/moderation/queue" if has_route(world.app, "/api/v1/moderation/queue") else "/api/v1/articles"
    tricks = [{"X-Role": "moderator"}, {"X-User-Id": str(world.mod.id)}, {"X-Forwarded-For": "127.0.0.1"},
              {"X-Original-URL": "/moderation"}, {"X-Rewrite-URL": "/moderation"}, {"X-Roles": "admin"}]
    for headers in tricks:
        assert_error(world.as_bob.get(path, headers=headers), 403)
    for query in ("as=mod1", "debug=1", "role=admin", f"user_id={world.mod.id}"):
        assert_error(world.as_bob.get(f"{path}?{query}"), 403)


def test_2_4_path_tricks_never_give_the_data(world):
    """auth-attacks.md 2.4."""
    for path in ("/api/v1/Moderation/queue", "/api/v1/moderation/queue/", "/api/v1/./moderation/queue",
                 "/api/v1/moderation%2Fqueue", "/api/v1/moderation/queue;x", "/api/v1/moderation/queue.json",
                 "/API/V1/moderation/queue", "/api/v1/moderation/QUEUE", "/api/v1/articles/"):
        response = world.as_bob.get(path)
        assert response.status_code in (403, 404, 405, 308), (path, response.status_code)
        assert "pending secret" not in response.get_data(as_text=True)


def test_2_6_head_and_options_are_no_bypass(world):
    """auth-attacks.md 2.6."""
    path = "/api/v1/moderation/queue" if has_route(world.app, "/api/v1/moderation/queue") else "/api/v1/articles"
    head = world.as_bob.client.head(path)
    assert head.status_code == 403 and head.get_data() == b""
    options = world.as_bob.client.options(path)
    assert "pending secret" not in options.get_data(as_text=True)
    assert "a1" not in options.get_data(as_text=True)


def test_4_4_a_demoted_moderator_loses_moderator_powers_at_once(world):
    """auth-attacks.md 4.4."""
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


def test_9_5_moderators_cannot_raise_themselves_or_act_on_peers(world):
    """auth-attacks.md 9.5."""
    before = snapshot(world.app)
    mod = world.as_mod
    assert_error(mod.put(f"/api/v1/users/{world.mod.id}/role", {"role": "admin"}), 403)
    if has_route(world.app, f"/api/v1/moderation/users/{world.admin.id}/ban", "POST"):
        assert_error(mod.post(f"/api/v1/moderation/users/{world.admin.id}/ban", {"reason": "coup"}), 403)
        assert_error(mod.post(f"/api/v1/moderation/users/{world.mod.id}/ban", {"reason": "self"}), 403)
    assert snapshot(world.app) == before


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
    """auth-attacks.md 13 (13.6: unbanned, writes again)."""
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
        assert_error(post_comment(fresh, "after a fresh login"), 403, code="banned")
    assert snapshot(world.app) == before
    # 13.6: unbanned, the same session writes again.
    unban(world, world.bob)
    assert post_comment(session, "back again").status_code == 201

