"""Trust between staff: a ban takes every power, staff words are acted on only by a higher role,
edits by others are audited, a ban needs a reason, closed articles freeze readers' edits, and
there is always an admin left."""
import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    FOREVER,
    Comment,
    User,
)

from .factories import assert_error, has_route, new_comment, snapshot

API = "/api/v1"


# -- helpers ----------------------------------------------------------------------------------

def ban_in_db(app, user):
    """Nobody outranks an admin, so an admin's ban can only be written in the database."""
    with app.app_context():
        db.session.get(User, user.id).banned_until = FOREVER
        db.session.commit()


def log(client, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    response = client.get(f"{API}/moderation/log?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["entries"]


@pytest.fixture
def world(app, login, admin, mod, alice, bob, make_user, article, make_article):
    """Alice's approved and pending comments, a banned reader, the moderator's own comment."""
    make_article("a2")
    mod2 = make_user("mod2", role="moderator")
    troll = make_user("troll", banned_until=FOREVER)
    as_alice, as_mod, as_admin = login(alice), login(mod), login(admin)
    approved = new_comment(as_alice, "an approved comment")["id"]
    pending = new_comment(as_alice, "a comment to decide on")["id"]
    with app.app_context():
        db.session.get(Comment, pending).status = "pending"
        db.session.commit()
    return type("World", (), dict(
        app=app, admin=admin, mod=mod, mod2=mod2, alice=alice, bob=bob, troll=troll,
        as_alice=as_alice, as_mod=as_mod, as_admin=as_admin, as_mod2=login(mod2),
        approved=approved, pending=pending,
        mods_own=new_comment(as_mod, "the moderator's own words")["id"]))


def staff_writes(w):
    """Every write a moderator (and, last, an admin) can make: (method, path, body)."""
    moderation = [
        ("POST", f"{API}/moderation/comments/{w.pending}", {"action": "approve"}),
        ("POST", f"{API}/moderation/comments/{w.approved}", {"action": "reject"}),
        ("POST", f"{API}/moderation/comments/{w.approved}", {"action": "spam"}),
        ("POST", f"{API}/moderation/comments/{w.approved}", {"action": "pin"}),
        ("POST", f"{API}/moderation/bulk", {"ids": [w.pending, w.approved], "action": "reject"}),
        ("POST", f"{API}/moderation/users/{w.bob.id}/ban", {"reason": "abuse", "purge": True}),
        ("DELETE", f"{API}/moderation/users/{w.troll.id}/ban", None),
        ("PATCH", f"{API}/articles/a1", {"status": "closed"}),
        ("PATCH", f"{API}/comments/{w.approved}", {"body": "rewritten by a banned moderator"}),
        ("PATCH", f"{API}/comments/{w.mods_own}", {"body": "my own, while banned"}),
        ("DELETE", f"{API}/comments/{w.approved}", None),
        ("DELETE", f"{API}/comments/{w.mods_own}", None),
        ("PUT", f"{API}/comments/{w.approved}/vote", {"value": 1}),
        ("POST", f"{API}/comments/{w.approved}/flags", {"reason": "spam"}),
        ("POST", f"{API}/articles/a1/comments", {"body": "a closing note"}),
        ("POST", f"{API}/auth/tokens", {"name": "a way back in"}),
    ]
    admin = [
        ("PUT", f"{API}/moderation/settings", {"premoderation": "all", "flag_threshold": 9}),
        ("PUT", f"{API}/articles/a2", {"title": "Taken over", "url": "https://news.example/x"}),
        ("PUT", f"{API}/articles/new-one", {"title": "New", "url": "https://news.example/new"}),
        ("PUT", f"{API}/users/{w.alice.id}/role", {"role": "admin"}),
        ("PUT", f"{API}/users/{w.mod2.id}/role", {"role": "reader"}),
        ("POST", f"{API}/moderation/users/{w.mod2.id}/ban", {"reason": "coup"}),
    ]
    return moderation, admin


MODERATION_READS = [f"{API}/moderation/queue", f"{API}/moderation/queue?queue=spam",
                    f"{API}/moderation/log", f"{API}/moderation/settings", f"{API}/articles"]


def assert_powerless(w, client, routes, token=None):
    before = snapshot(w.app)
    entries_before = len(log(w.as_mod2))
    for method, path, body in routes:
        assert_error(client._send(method, path, body), 403, "banned")
        if token:  # a bearer token made before the ban is no way around it
            response = client.client.open(path, method=method, json=body,
                                           headers={"Authorization": f"Bearer {token}"})
            assert_error(response, 403, "banned")
    for path in MODERATION_READS:
        assert_error(client.get(path), 403, "banned")
    page = client.get("/moderation", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "text/html" in page.content_type
    # Nothing changed: in the database, and in the log another moderator reads.
    assert snapshot(w.app) == before
    assert len(log(w.as_mod2)) == entries_before


def logs_out(w, client):
    """Logging out (here or everywhere) is left to a banned account."""
    path = f"{API}/auth/logout-everywhere"
    if not has_route(w.app, path, "POST"):
        path = f"{API}/auth/logout"
    assert client.post(path).status_code == 204
    assert client.get(f"{API}/auth/me").get_json()["user"] is None


# -- 1. a ban takes every power --------------------------------------------------------------

def test_a_banned_moderator_loses_every_power_on_the_next_request(world):
    w = world
    token = w.as_mod.post(f"{API}/auth/tokens", {"name": "before"}).get_json()["token"]
    assert w.as_mod.get(f"{API}/moderation/queue").status_code == 200  # a live session, used
    response = w.as_admin.post(f"{API}/moderation/users/{w.mod.id}/ban", {"reason": "rogue"})
    assert response.status_code == 200
    moderation, admin = staff_writes(w)
    assert_powerless(w, w.as_mod, moderation + admin, token)
    logs_out(w, w.as_mod)


def test_a_banned_admin_loses_every_power(world, login):
    w = world
    as_admin = login(w.admin)
    ban_in_db(w.app, w.admin)
    moderation, admin = staff_writes(w)
    assert_powerless(w, as_admin, moderation + admin)
    logs_out(w, as_admin)


def test_a_banned_moderator_reads_threads_as_a_reader_would(world):
    w = world
    hidden = lambda client: [c["id"] for c in client.get(f"{API}/articles/a1/comments").get_json()["comments"]]  # noqa: E731
    assert w.pending in hidden(w.as_mod)
    assert w.as_mod.get(f"{API}/comments/{w.pending}").status_code == 200
    assert w.as_admin.post(f"{API}/moderation/users/{w.mod.id}/ban", {"reason": "rogue"}).status_code == 200
    assert w.pending not in hidden(w.as_mod)
    assert w.as_mod.get(f"{API}/comments/{w.pending}").status_code == 404
    shown = w.as_mod.get(f"{API}/comments/{w.approved}").get_json()
    assert "body" not in shown  # the source is for its author and working moderators


def test_an_unbanned_moderator_gets_the_powers_back(world):
    w = world
    assert w.as_admin.post(f"{API}/moderation/users/{w.mod.id}/ban", {"reason": "x", "days": 1}).status_code == 200
    assert_error(w.as_mod.post(f"{API}/moderation/comments/{w.pending}", {"action": "approve"}), 403, "banned")
    assert w.as_admin.delete(f"{API}/moderation/users/{w.mod.id}/ban").status_code == 204
    assert w.as_mod.post(f"{API}/moderation/comments/{w.pending}", {"action": "approve"}).status_code == 200


# -- 2. staff words ---------------------------------------------------------------------------

def test_an_edit_of_someone_elses_comment_is_audited_with_the_previous_text(world):
    w = world
    response = w.as_mod.patch(f"{API}/comments/{w.approved}", {"body": "**moderated** text"})
    assert response.status_code == 200
    admin_view = log(w.as_admin, comment=w.approved)[0]
    assert {k: admin_view[k] for k in ("action", "comment_id", "user_id", "from", "to", "previous_body")} == {
        "action": "edit", "comment_id": w.approved, "user_id": w.alice.id, "from": "approved",
        "to": "approved", "previous_body": "an approved comment"}
    assert admin_view["actor"]["id"] == w.mod.id
    moderator_view = log(w.as_mod2, comment=w.approved)[0]
    assert moderator_view["action"] == "edit" and moderator_view.get("previous_body") is None
    # The author's own edits and a moderator's edits of their own words are not audited.
    assert w.as_mod.patch(f"{API}/comments/{w.mods_own}", {"body": "fixed a typo"}).status_code == 200
    assert log(w.as_admin, comment=w.mods_own) == []


def test_a_pending_comment_edited_by_a_moderator_keeps_its_status_in_the_log(world):
    w = world
    assert w.as_mod.patch(f"{API}/comments/{w.pending}", {"body": "tidied"}).status_code == 200
    entry = log(w.as_admin, comment=w.pending)[0]
    assert (entry["action"], entry["from"], entry["to"], entry["previous_body"]) == (
        "edit", "pending", "pending", "a comment to decide on")


@pytest.mark.parametrize("whose", ["mod2", "admin"])
def test_a_moderator_cannot_touch_staff_words(world, whose):
    w = world
    target = new_comment(getattr(w, f"as_{whose}"), f"words of the {whose}")["id"]
    before = snapshot(w.app)
    refused = [
        w.as_mod.patch(f"{API}/comments/{target}", {"body": "rewritten"}),
        w.as_mod.delete(f"{API}/comments/{target}"),
        w.as_mod.post(f"{API}/moderation/bulk", {"ids": [w.pending, target], "action": "spam"}),
    ] + [w.as_mod.post(f"{API}/moderation/comments/{target}", {"action": action})
         for action in ("approve", "reject", "spam", "pin")]
    for response in refused:
        assert_error(response, 403, "forbidden")
    assert snapshot(w.app) == before  # the pending comment of the bulk request too
    # Their own words stay theirs to act on.
    for action in ("pin", "unpin", "reject", "approve"):
        assert w.as_mod.post(f"{API}/moderation/comments/{w.mods_own}", {"action": action}).status_code == 200
    assert w.as_mod.patch(f"{API}/comments/{w.mods_own}", {"body": "fixed a typo"}).status_code == 200
    assert w.as_mod.delete(f"{API}/comments/{w.mods_own}").status_code == 204


def test_an_admin_acts_on_moderators_words_but_not_on_another_admins(world, make_user, login):
    w = world
    as_other_admin = login(make_user("root2", role="admin"))
    admins_words = new_comment(as_other_admin, "words of another admin")["id"]
    assert_error(w.as_admin.patch(f"{API}/comments/{admins_words}", {"body": "x"}), 403, "forbidden")
    assert_error(w.as_admin.post(f"{API}/moderation/comments/{admins_words}", {"action": "spam"}),
                 403, "forbidden")
    assert_error(w.as_admin.delete(f"{API}/comments/{admins_words}"), 403, "forbidden")

    assert w.as_admin.patch(f"{API}/comments/{w.mods_own}", {"body": "edited by the admin"}).status_code == 200
    assert w.as_admin.post(f"{API}/moderation/comments/{w.mods_own}", {"action": "pin"}).status_code == 200
    assert w.as_admin.post(f"{API}/moderation/bulk", {"ids": [w.mods_own, w.pending],
                                                      "action": "spam"}).get_json() == {"updated": 2}
    assert [e["action"] for e in log(w.as_admin, comment=w.mods_own)] == ["spam", "pin", "edit"]


# -- 3. a ban needs a reason ------------------------------------------------------------------

@pytest.mark.parametrize("payload", [{}, {"days": 3}, {"reason": None}, {"reason": ""}, {"reason": "   "},
                                     {"purge": True}])
def test_a_ban_without_a_reason_is_422(app, login, mod, alice, payload):
    response = login(mod).post(f"{API}/moderation/users/{alice.id}/ban", payload)
    assert_error(response, 422, "validation_error")
    assert "reason" in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.get(User, alice.id).banned_until is None


# -- 4. closed articles -----------------------------------------------------------------------

def test_readers_cannot_edit_on_a_closed_article_but_moderators_can(world):
    w = world
    assert w.as_mod.patch(f"{API}/articles/a1", {"status": "closed"}).status_code == 200
    assert_error(w.as_alice.patch(f"{API}/comments/{w.approved}", {"body": "sneaky edit"}), 403, "article_closed")
    with w.app.app_context():
        assert db.session.get(Comment, w.approved).body == "an approved comment"
    assert w.as_mod.patch(f"{API}/comments/{w.approved}", {"body": "a moderator's fix"}).status_code == 200


# -- 5. there is always an admin --------------------------------------------------------------

def test_the_last_admin_can_neither_demote_itself_nor_leave(app, login, admin, make_user):
    as_admin = login(admin)
    for role in ("moderator", "reader"):
        response = as_admin.put(f"{API}/users/{admin.id}/role", {"role": role})
        assert_error(response, 409, "conflict")
        assert "last administrator" in response.get_json()["error"]["message"]
    assert_error(as_admin.delete(f"{API}/me"), 409, "conflict")
    with app.app_context():
        assert db.session.get(User, admin.id).role == "admin"
    assert as_admin.get(f"{API}/moderation/settings").status_code == 200  # still logged in

    second = make_user("root2", role="admin")
    assert as_admin.put(f"{API}/users/{second.id}/role", {"role": "admin"}).status_code == 200
    assert as_admin.put(f"{API}/users/{second.id}/role", {"role": "moderator"}).status_code == 200
    assert_error(as_admin.put(f"{API}/users/{admin.id}/role", {"role": "reader"}), 409, "conflict")
    assert as_admin.put(f"{API}/users/{second.id}/role", {"role": "admin"}).status_code == 200
    assert as_admin.put(f"{API}/users/{admin.id}/role", {"role": "reader"}).status_code == 200
    as_second = login(second)
    assert_error(as_second.delete(f"{API}/me"), 409, "conflict")


def test_two_admins_demoting_each_other_at_once_leave_one(app, login, admin, make_user):
    other = make_user("root2", role="admin")
    clients = {admin.id: login(admin), other.id: login(other)}
    for _ in range(4):
        with app.app_context():
            for user_id in clients:
                db.session.get(User, user_id).role = "admin"
            db.session.commit()
        barrier = threading.Barrier(2)
        statuses = {}

        def demote(actor_id, target_id):
            barrier.wait()
            response = clients[actor_id].put(f"{API}/users/{target_id}/role", {"role": "reader"})
            statuses[actor_id] = response.status_code

        threads = [threading.Thread(target=demote, args=(admin.id, other.id)),
                   threading.Thread(target=demote, args=(other.id, admin.id))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(statuses.values()) in ([200, 403], [200, 409]), statuses
        with app.app_context():
            admins = db.session.scalars(select(User.id).where(User.role == "admin")).all()
        assert len(admins) == 1
