"""Moderation through the HTTP API: queues, decisions, bulk, bans, the audit log and settings."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment, Flag, ModerationEvent, User

from .factories import new_comment

Q = "/api/v1/moderation/queue"
# Accounts old enough for their flags to count toward the threshold (FLAG_HISTORY_HOURS).
SEASONED = datetime.now(timezone.utc) - timedelta(days=2)


@pytest.fixture
def moderator(login, mod):
    return login(mod)


def configure(login, admin, **settings):
    response = login(admin).put("/api/v1/moderation/settings", settings)
    assert response.status_code == 200, response.get_json()


def pending_comments(login, admin, author_api, n, key="a1", prefix="pending"):
    configure(login, admin, premoderation="all")
    return [new_comment(author_api, f"{prefix} {i}", key)["id"] for i in range(n)]


def decide(api, comment_id, action, **extra):
    return api.post(f"/api/v1/moderation/comments/{comment_id}", {"action": action, **extra})


def flag(api, comment_id, reason="abuse"):
    response = api.post(f"/api/v1/comments/{comment_id}/flags", {"reason": reason})
    assert response.status_code == 201, response.get_json()


def status_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


def events(app, **where):
    with app.app_context():
        query = select(ModerationEvent).order_by(ModerationEvent.id)
        for name, value in where.items():
            query = query.where(getattr(ModerationEvent, name) == value)
        return [(e.action, e.actor_id, e.comment_id, e.user_id, e.from_status, e.to_status, e.reason)
                for e in db.session.scalars(query)]


def count(login, key="a1"):
    return login().get(f"/api/v1/articles/{key}").get_json()["comment_count"]


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["comments"]]


def set_times(app, **columns_by_id):
    """set_times(app, created_at={id: datetime}, decided_at={...}) straight in the database."""
    with app.app_context():
        for column, values in columns_by_id.items():
            for comment_id, value in values.items():
                db.session.execute(sa.update(Comment).where(Comment.id == comment_id)
                                   .values({column: value}))
        db.session.commit()


T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


# -- permissions --------------------------------------------------------------------------

ENDPOINTS = [
    ("get", Q, None),
    ("post", "/api/v1/moderation/comments/1", {"action": "approve"}),
    ("post", "/api/v1/moderation/bulk", {"ids": [1], "action": "approve"}),
    ("get", "/api/v1/moderation/log", None),
    ("post", "/api/v1/moderation/users/1/ban", {"reason": "x"}),
    ("delete", "/api/v1/moderation/users/1/ban", None),
    ("get", "/api/v1/moderation/settings", None),
    ("put", "/api/v1/moderation/settings", {"max_links": 1}),
]


@pytest.mark.parametrize("method, path, payload", ENDPOINTS)
def test_anonymous_gets_401_and_readers_403(app, login, alice, method, path, payload):
    for api, status in ((login(), 401), (login(alice), 403)):
        args = (path, payload) if payload is not None else (path,)
        response = getattr(api, method)(*args)
        assert response.status_code == status
        assert response.get_json()["error"]["code"] == ("unauthorized" if status == 401 else "forbidden")
        assert response.headers["Cache-Control"] == "no-store"
    assert events(app) == []


def test_settings_update_needs_an_admin(app, moderator):
    response = moderator.put("/api/v1/moderation/settings", {"max_links": 1})
    assert response.status_code == 403
    assert moderator.get("/api/v1/moderation/settings").get_json()["max_links"] == 5


# -- queues ---------------------------------------------------------------------------------

def test_pending_queue_oldest_first_with_counts(app, login, admin, alice, moderator, article):
    first, second, third = pending_comments(login, admin, login(alice), 3)
    set_times(app, created_at={first: T0 + timedelta(minutes=2), second: T0,
                               third: T0 + timedelta(minutes=1)})
    response = moderator.get(Q + "?queue=pending")
    assert ids(response) == [second, third, first]
    assert response.get_json()["counts"] == {"pending": 3, "flagged": 0, "spam": 0}
    assert response.get_json()["next"] is None
    assert ids(moderator.get(Q)) == [second, third, first]   # pending is the default queue


def test_queue_pages_follow_the_cursor(app, login, admin, alice, moderator, article):
    made = pending_comments(login, admin, login(alice), 5)
    # equal times: the order falls back to ids
    set_times(app, created_at={comment_id: T0 for comment_id in made})
    seen, url = [], Q + "?queue=pending&limit=2"
    while url:
        body = moderator.get(url).get_json()
        assert len(body["comments"]) <= 2
        seen += [item["id"] for item in body["comments"]]
        url = f"{Q}?queue=pending&limit=2&after={body['next']}" if body["next"] else None
    assert seen == sorted(made)


def test_flagged_queue_most_flags_then_oldest(app, login, admin, alice, moderator, make_user, article):
    configure(login, admin, flag_threshold=10)
    author = login(alice)
    one, three, two_old, two_new, unflagged = (new_comment(author, f"c{i}")["id"] for i in range(5))
    readers = [login(make_user(f"r{i}")) for i in range(3)]
    for comment_id, n in ((one, 1), (three, 3), (two_old, 2), (two_new, 2)):
        for reader in readers[:n]:
            flag(reader, comment_id)
    set_times(app, created_at={two_old: T0, two_new: T0 + timedelta(hours=1)})
    response = moderator.get(Q + "?queue=flagged")
    assert ids(response) == [three, two_old, two_new, one]
    assert response.get_json()["counts"] == {"pending": 0, "flagged": 4, "spam": 0}
    page = moderator.get(Q + "?queue=flagged&limit=3").get_json()
    rest = moderator.get(Q + f"?queue=flagged&limit=3&after={page['next']}").get_json()
    assert [item["id"] for item in rest["comments"]] == [one] and rest["next"] is None


@pytest.mark.parametrize("queue, action", [("spam", "spam"), ("rejected", "reject"), ("approved", "approve")])
def test_decided_queues_latest_decision_first(app, login, admin, alice, moderator, article, queue, action):
    made = pending_comments(login, admin, login(alice), 3)
    for comment_id in (made[1], made[2], made[0]):
        assert decide(moderator, comment_id, action).status_code == 200
    assert ids(moderator.get(f"{Q}?queue={queue}")) == [made[0], made[2], made[1]]
    set_times(app, decided_at={made[0]: T0, made[1]: T0, made[2]: T0})
    assert ids(moderator.get(f"{Q}?queue={queue}")) == [made[2], made[1], made[0]]   # ties: by id


def test_queue_filters_by_article_and_counts_follow(app, login, admin, alice, moderator, make_article):
    make_article("a1")
    make_article("b2", title="Other")
    in_a = pending_comments(login, admin, login(alice), 2, key="a1")
    in_b = pending_comments(login, admin, login(alice), 1, key="b2", prefix="other")
    response = moderator.get(Q + "?queue=pending&article=b2")
    assert ids(response) == in_b
    assert response.get_json()["counts"]["pending"] == 1
    assert set(ids(moderator.get(Q + "?article=a1"))) == set(in_a)
    assert moderator.get(Q).get_json()["counts"]["pending"] == 3
    assert moderator.get(Q + "?article=nope").status_code == 404


@pytest.mark.parametrize("query, status", [
    ("?queue=deleted", 422), ("?limit=-1", 422), ("?limit=x", 422), ("?limit=0", 422),
    ("?after=garbage", 400), ("?article=%20bad", 422), ("?limit=100000", 200),
])
def test_queue_rejects_bad_parameters(app, moderator, query, status):
    assert moderator.get(Q + query).status_code == status


def test_a_cursor_of_another_queue_is_refused(app, login, admin, alice, moderator, article):
    pending_comments(login, admin, login(alice), 2)
    cursor = moderator.get(Q + "?limit=1").get_json()["next"]
    assert moderator.get(f"{Q}?queue=spam&after={cursor}").status_code == 400


def test_queue_item_carries_the_context(app, login, admin, alice, bob, moderator, make_user, article):
    configure(login, admin, flag_threshold=2, banned_words=["scam"])
    author, other = login(alice), login(bob)
    long_parent = "P" * 150 + " " + "q" * 100
    parent = new_comment(other, long_parent)["id"]
    reply = new_comment(author, "a *reply*", parent_id=parent)["id"]
    new_comment(author, "an approved one")
    new_comment(author, "this is a scam")   # rejected: counts in alice's history
    flag(login(make_user("r1", created_at=SEASONED)), reply, "spam")
    flag(login(make_user("r2", created_at=SEASONED)), reply, "abuse")   # threshold: back to pending
    response = moderator.get(Q + "?queue=pending")
    [item] = response.get_json()["comments"]
    assert item["id"] == reply and item["status"] == "pending"
    assert item["body"] == "a *reply*" and item["body_html"] == "<p>a <em>reply</em></p>"
    assert item["author"] == {"id": alice.id, "username": "alice", "display_name": "Alice"}
    assert item["article"] == "a1" and item["article_title"] == "The first article"
    assert item["parent_id"] == parent and item["depth"] == 1
    assert item["parent_excerpt"] == long_parent[:200] + "…"
    assert sorted(item["flags"], key=lambda f: f["reason"]) == [{"reason": "abuse", "count": 1},
                                                                 {"reason": "spam", "count": 1}]
    assert item["flag_count"] == 2
    assert item["author_stats"]["approved"] == 1 and item["author_stats"]["rejected"] == 1
    assert item["reasons"] == ["flagged by 2 readers"]
    assert item["author_banned_until"] is None
    for key in ("created_at", "edited_at", "score", "upvotes", "downvotes", "my_vote", "pinned",
                "deleted", "reply_count", "replies", "more_replies"):
        assert key in item


def test_queue_costs_a_constant_number_of_queries(app, login, admin, alice, bob, moderator, make_user,
                                                  make_article, article):
    configure(login, admin, flag_threshold=100)
    readers = [login(make_user(f"r{i}")) for i in range(2)]

    def add(n):
        for i in range(n):
            parent = new_comment(login(bob), f"parent {n}-{i}")["id"]
            comment_id = new_comment(login(alice), f"reply {n}-{i}", parent_id=parent)["id"]
            for reader in readers:
                flag(reader, comment_id, "spam" if i % 2 else "abuse")

    def queries_for_page():
        statements = []
        with app.app_context():
            engine = db.engine

            def record(conn, cursor, statement, *args):
                statements.append(statement)
            sa.event.listen(engine, "before_cursor_execute", record)
            try:
                response = moderator.get(Q + "?queue=flagged&limit=100")
            finally:
                sa.event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200
        return len(response.get_json()["comments"]), len(statements)

    add(2)
    small = queries_for_page()
    add(8)
    large = queries_for_page()
    assert small[0] == 2 and large[0] == 10
    assert small[1] == large[1] <= 14


# -- decisions ----------------------------------------------------------------------------------

def test_approve_a_pending_comment(app, login, admin, alice, moderator, mod, article):
    [comment_id] = pending_comments(login, admin, login(alice), 1)
    assert count(login) == 0
    response = decide(moderator, comment_id, "approve", reason="fine")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == comment_id and body["status"] == "approved" and body["body"] == "pending 0"
    assert status_of(app, comment_id) == "approved"
    assert count(login) == 1
    thread = login().get("/api/v1/articles/a1/comments").get_json()
    assert [c["id"] for c in thread["comments"]] == [comment_id] and thread["total"] == 1
    assert events(app, comment_id=comment_id)[-1] == (
        "approve", mod.id, comment_id, alice.id, "pending", "approved", "fine")


@pytest.mark.parametrize("action, target, counted", [("reject", "rejected", 0), ("spam", "spam", 0)])
def test_reject_or_spam_an_approved_comment_then_restore(app, login, alice, moderator, article,
                                                         action, target, counted):
    comment_id = new_comment(login(alice), "approved at first")["id"]
    assert count(login) == 1
    assert decide(moderator, comment_id, action).get_json()["status"] == target
    assert status_of(app, comment_id) == target and count(login) == counted
    assert login().get(f"/api/v1/comments/{comment_id}").status_code == 404
    assert decide(moderator, comment_id, "approve").status_code == 200
    assert status_of(app, comment_id) == "approved" and count(login) == 1
    assert [(e[0], e[4], e[5]) for e in events(app, comment_id=comment_id)] == [
        (action, "approved", target), ("approve", target, "approved")]


@pytest.mark.parametrize("setup, action", [
    (["reject"], "reject"),
    ([], "unpin"),
    (["pin"], "pin"),
])
def test_invalid_transitions_are_409(app, login, alice, moderator, article, setup, action):
    comment_id = new_comment(login(alice), "a comment")["id"]
    for step in setup:
        assert decide(moderator, comment_id, step).status_code == 200
    before = events(app)
    response = decide(moderator, comment_id, action)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert events(app) == before


def test_deleted_comments_cannot_be_decided(app, login, alice, moderator, article):
    comment_id = new_comment(login(alice), "soon gone")["id"]
    assert login(alice).delete(f"/api/v1/comments/{comment_id}").status_code == 204
    for action in ("approve", "reject", "spam", "pin"):
        assert decide(moderator, comment_id, action).status_code == 409
    assert status_of(app, comment_id) == "deleted"


def test_decision_input_errors(app, moderator, login, alice, article):
    comment_id = new_comment(login(alice), "x")["id"]
    assert decide(moderator, 999999, "approve").status_code == 404
    response = decide(moderator, comment_id, "publish")
    assert response.status_code == 422 and "action" in response.get_json()["error"]["fields"]
    assert moderator.post(f"/api/v1/moderation/comments/{comment_id}", {}).status_code == 422
    assert decide(moderator, comment_id, "reject", reason="x" * 501).status_code == 422
    assert moderator.post(f"/api/v1/moderation/comments/{comment_id}", data="{",
                          content_type="application/json").status_code == 400
    assert moderator.post("/api/v1/moderation/comments/١", {"action": "approve"}).status_code == 404
    assert status_of(app, comment_id) == "approved"


def test_approving_resolves_open_flags(app, login, admin, alice, moderator, make_user, article):
    configure(login, admin, flag_threshold=5)
    comment_id = new_comment(login(alice), "flag me")["id"]
    for i in range(2):
        flag(login(make_user(f"r{i}")), comment_id)
    assert moderator.get(Q).get_json()["counts"]["flagged"] == 1
    response = decide(moderator, comment_id, "approve")
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    with app.app_context():
        assert db.session.get(Comment, comment_id).open_flags == 0
        assert db.session.scalar(select(func.count()).select_from(Flag)
                                 .where(Flag.resolved_at.is_(None))) == 0
    queue = moderator.get(Q + "?queue=flagged").get_json()
    assert queue["comments"] == [] and queue["counts"]["flagged"] == 0
    assert count(login) == 1
    assert events(app, comment_id=comment_id)[-1][4:6] == ("approved", "approved")


def test_approving_a_comment_held_by_flags_resolves_them(app, login, admin, alice, moderator, make_user,
                                                         article):
    configure(login, admin, flag_threshold=1)
    comment_id = new_comment(login(alice), "flag me")["id"]
    flag(login(make_user("r0", created_at=SEASONED)), comment_id)
    assert status_of(app, comment_id) == "pending" and count(login) == 0
    assert decide(moderator, comment_id, "approve").status_code == 200
    with app.app_context():
        assert db.session.get(Comment, comment_id).open_flags == 0
    assert count(login) == 1


def test_pin_and_unpin(app, login, alice, moderator, article):
    first = new_comment(login(alice), "first")["id"]
    second = new_comment(login(alice), "second")["id"]
    response = decide(moderator, second, "pin")
    assert response.status_code == 200 and response.get_json()["pinned"] is True
    thread = login().get("/api/v1/articles/a1/comments").get_json()["comments"]
    assert [c["id"] for c in thread] == [second, first]
    assert decide(moderator, second, "unpin").get_json()["pinned"] is False
    assert [e[0] for e in events(app, comment_id=second)] == ["pin", "unpin"]
    assert count(login) == 2


def test_a_failed_decision_changes_nothing(app, login, alice, moderator, article):
    comment_id = new_comment(login(alice), "x")["id"]
    assert decide(moderator, comment_id, "unpin").status_code == 409
    assert count(login) == 1 and events(app) == []


def test_approving_an_approved_comment_confirms_it(app, login, alice, moderator, mod, article):
    """The contract: 200, one audit entry from approved to approved (a not-spam decision)."""
    comment_id = new_comment(login(alice), "fine as it is")["id"]
    response = decide(moderator, comment_id, "approve")
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    assert [(e[0], e[1], e[4], e[5]) for e in events(app, comment_id=comment_id)] == [
        ("approve", mod.id, "approved", "approved")]
    assert count(login) == 1  # counted once


def test_marking_a_spam_comment_as_spam_confirms_it(app, login, alice, moderator, mod, article):
    """As approving an approved one: 200, one more audit entry, from spam to spam; nothing else moves."""
    comment_id = new_comment(login(alice), "cheap views here")["id"]
    assert decide(moderator, comment_id, "spam").status_code == 200
    response = decide(moderator, comment_id, "spam", reason="still spam")
    assert response.status_code == 200 and response.get_json()["status"] == "spam"
    assert [(e[0], e[1], e[4], e[5]) for e in events(app, comment_id=comment_id)] == [
        ("spam", mod.id, "approved", "spam"), ("spam", mod.id, "spam", "spam")]
    assert count(login) == 0


# -- bulk -----------------------------------------------------------------------------------------

def test_bulk_approve(app, login, admin, alice, moderator, mod, article):
    made = pending_comments(login, admin, login(alice), 3)
    response = moderator.post("/api/v1/moderation/bulk",
                              {"ids": made + [made[0]], "action": "approve", "reason": "ok"})
    assert response.status_code == 200 and response.get_json() == {"updated": 3}
    assert [status_of(app, i) for i in made] == ["approved"] * 3
    assert count(login) == 3
    assert sorted(e[2] for e in events(app, actor_id=mod.id)) == sorted(made)


def test_bulk_reject_of_flagged_comments_empties_the_tab(app, login, admin, alice, moderator, make_user,
                                                         article):
    configure(login, admin, flag_threshold=5)
    made = [new_comment(login(alice), f"c{i}")["id"] for i in range(3)]
    reader = login(make_user("r0"))
    for comment_id in made:
        flag(reader, comment_id)
    assert moderator.post("/api/v1/moderation/bulk", {"ids": made, "action": "reject"}).status_code == 200
    queue = moderator.get(Q + "?queue=flagged").get_json()
    assert queue["comments"] == [] and queue["counts"]["flagged"] == 0
    assert ids(moderator.get(Q + "?queue=rejected")) and count(login) == 0


@pytest.mark.parametrize("bad", ["unknown", "conflict"])
def test_bulk_is_all_or_nothing(app, login, admin, alice, moderator, article, bad):
    made = pending_comments(login, admin, login(alice), 2)
    configure(login, admin, premoderation="none")
    gone = new_comment(login(alice), "deleted by its author")["id"]
    assert login(alice).delete(f"/api/v1/comments/{gone}").status_code == 204
    extra = 999999 if bad == "unknown" else gone
    response = moderator.post("/api/v1/moderation/bulk", {"ids": made + [extra], "action": "approve"})
    assert response.status_code == (404 if bad == "unknown" else 409)
    assert [status_of(app, i) for i in made] == ["pending", "pending"]
    assert count(login) == 0  # the deleted one no longer counts
    assert [e for e in events(app) if e[1] is not None] == []


@pytest.mark.parametrize("payload", [
    {"ids": [], "action": "approve"},
    {"ids": list(range(1, 502)), "action": "approve"},
    {"ids": ["1"], "action": "approve"},
    {"ids": [0], "action": "approve"},
    {"ids": [1], "action": "delete"},
    {"action": "approve"},
])
def test_bulk_validation(app, moderator, payload):
    response = moderator.post("/api/v1/moderation/bulk", payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]


# -- bans ------------------------------------------------------------------------------------------

def test_temporary_ban_blocks_writes_until_unbanned(app, login, alice, bob, moderator, mod, article):
    comment_id = new_comment(login(bob), "bob's")["id"]
    response = moderator.post(f"/api/v1/moderation/users/{alice.id}/ban", {"days": 7, "reason": "rude"})
    assert response.status_code == 200
    until = datetime.strptime(response.get_json()["user"]["banned_until"], "%Y-%m-%dT%H:%M:%SZ")
    expected = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=7)
    assert abs((until - expected).total_seconds()) < 60
    api = login(alice)
    for call in (lambda: api.post("/api/v1/articles/a1/comments", {"body": "let me in"}),
                 lambda: api.put(f"/api/v1/comments/{comment_id}/vote", {"value": 1}),
                 lambda: api.post(f"/api/v1/comments/{comment_id}/flags", {"reason": "spam"})):
        blocked = call()
        assert blocked.status_code == 403 and blocked.get_json()["error"]["code"] == "banned"
    with app.app_context():
        stored = db.session.get(User, alice.id)
        assert stored.ban_reason == "rude" and stored.is_banned()
    assert moderator.delete(f"/api/v1/moderation/users/{alice.id}/ban").status_code == 204
    assert api.post("/api/v1/articles/a1/comments", {"body": "back"}).status_code == 201
    assert events(app, user_id=alice.id) == [("ban", mod.id, None, alice.id, None, None, "rude"),
                                             ("unban", mod.id, None, alice.id, None, None, None)]


def test_permanent_ban_shows_forever(app, login, admin, alice, moderator):
    response = moderator.post(f"/api/v1/moderation/users/{alice.id}/ban", {"reason": "spammer"})
    assert response.status_code == 200
    assert response.get_json()["user"]["banned_until"] == "forever"
    log = moderator.get(f"/api/v1/moderation/log?user={alice.id}").get_json()["entries"]
    assert log[0]["action"] == "ban" and log[0]["actor"]["banned_until"] is None


def test_ban_with_purge_rejects_pending_comments(app, login, admin, alice, moderator, mod, article):
    held = pending_comments(login, admin, login(alice), 2)
    configure(login, admin, premoderation="none")
    kept = new_comment(login(alice), "approved stays")["id"]
    response = moderator.post(f"/api/v1/moderation/users/{alice.id}/ban",
                              {"days": 1, "reason": "spam run", "purge": True})
    assert response.status_code == 200
    assert [status_of(app, i) for i in held] == ["rejected", "rejected"]
    assert status_of(app, kept) == "approved" and count(login) == 1
    log = events(app, user_id=alice.id)
    assert [e[0] for e in log if e[1] == mod.id] == ["ban", "reject", "reject"]
    assert {e[2] for e in log if e[0] == "reject"} == set(held)
    assert moderator.get(Q).get_json()["counts"]["pending"] == 0


def test_ban_permissions(app, login, admin, mod, make_user, alice, moderator):
    other_mod = make_user("mod2", role="moderator")
    for target in (admin, other_mod, mod):
        response = moderator.post(f"/api/v1/moderation/users/{target.id}/ban", {"reason": "x"})
        assert response.status_code == 403
    assert login(admin).post(f"/api/v1/moderation/users/{mod.id}/ban", {"reason": "x"}).status_code == 200
    assert login(admin).post(f"/api/v1/moderation/users/{admin.id}/ban", {"reason": "x"}).status_code == 403
    unbanned_mod = login(other_mod)  # `moderator` (mod) is banned now: it has no powers left
    assert unbanned_mod.post("/api/v1/moderation/users/999999/ban", {"reason": "x"}).status_code == 404
    assert unbanned_mod.delete("/api/v1/moderation/users/999999/ban").status_code == 404
    with app.app_context():
        assert db.session.get(User, admin.id).banned_until is None


@pytest.mark.parametrize("payload", [{"days": 0}, {"days": -3}, {"days": "7"}, {"days": 1.5},
                                     {"purge": "yes"}, {"days": 10**9}])
def test_ban_validation(app, alice, moderator, payload):
    response = moderator.post(f"/api/v1/moderation/users/{alice.id}/ban", {"reason": "x", **payload})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, alice.id).banned_until is None


def test_unbanning_a_user_who_is_not_banned_is_a_no_op(app, alice, moderator):
    assert moderator.delete(f"/api/v1/moderation/users/{alice.id}/ban").status_code == 204
    assert events(app) == []


# -- the audit log ------------------------------------------------------------------------------

def test_log_has_one_entry_per_decision_newest_first(app, login, admin, alice, bob, moderator, mod,
                                                    article):
    configure(login, admin, premoderation="all")
    a = new_comment(login(alice), "from alice")["id"]
    b = new_comment(login(bob), "from bob")["id"]
    decide(moderator, a, "approve")
    decide(moderator, b, "spam", reason="link farm")
    decide(moderator, a, "pin")
    entries = moderator.get("/api/v1/moderation/log").get_json()["entries"]
    assert [(e["action"], e["comment_id"]) for e in entries] == [
        ("pin", a), ("spam", b), ("approve", a), ("hold", b), ("hold", a)]
    spam = entries[1]
    assert spam["actor"]["id"] == mod.id and spam["actor"]["username"] == "mod"
    assert (spam["from"], spam["to"], spam["reason"]) == ("pending", "spam", "link farm")
    assert spam["user_id"] == bob.id
    assert spam["at"].endswith("Z")
    rule = entries[-1]
    assert rule["actor"] is None and rule["from"] is None and rule["to"] == "pending"
    assert set(spam) == {"id", "at", "actor", "action", "comment_id", "user_id", "user_name", "from", "to",
                         "reason"}
    assert spam["user_name"] == "bob"


def test_log_filters_and_pages(app, login, admin, alice, bob, mod, moderator, article):
    configure(login, admin, premoderation="all")
    a = new_comment(login(alice), "from alice")["id"]
    b = new_comment(login(bob), "from bob")["id"]
    decide(moderator, a, "approve")
    decide(login(admin), b, "reject")
    log = "/api/v1/moderation/log"
    on_a = moderator.get(f"{log}?comment={a}").get_json()["entries"]
    assert [e["action"] for e in on_a] == ["approve", "hold"]
    assert {e["comment_id"] for e in moderator.get(f"{log}?user={bob.id}").get_json()["entries"]} == {b}
    by_mod = moderator.get(f"{log}?actor={mod.id}").get_json()["entries"]
    assert [(e["action"], e["comment_id"]) for e in by_mod] == [("approve", a)]
    assert moderator.get(f"{log}?comment={a}&actor={admin.id}").get_json()["entries"] == []
    first = moderator.get(f"{log}?limit=3").get_json()
    rest = moderator.get(f"{log}?limit=3&after={first['next']}").get_json()
    assert len(first["entries"]) == 3 and len(rest["entries"]) == 1 and rest["next"] is None
    all_ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert all_ids == sorted(all_ids, reverse=True)
    for bad in ("comment=abc", "user=-1", "actor=0", "limit=-2", "comment=١", "comment=", "actor="):
        assert moderator.get(f"{log}?{bad}").status_code == 422
    assert moderator.get(f"{log}?after=nope").status_code == 400


# -- settings -------------------------------------------------------------------------------------

def test_settings_partial_update_answers_the_whole(app, login, admin, moderator):
    api = login(admin)
    defaults = moderator.get("/api/v1/moderation/settings").get_json()
    assert defaults == {"premoderation": "none", "trusted_after": 3, "max_links": 5, "banned_words": [],
                        "suspect_words": [], "flag_threshold": 3, "edit_window_minutes": 15}
    response = api.put("/api/v1/moderation/settings",
                       {"premoderation": "new_users", "banned_words": [" Spam ", "spam", "CASINO"],
                        "unknown": 1})
    assert response.status_code == 200
    assert response.get_json() == {**defaults, "premoderation": "new_users",
                                   "banned_words": ["Spam", "CASINO"]}
    response = api.put("/api/v1/moderation/settings", {"flag_threshold": 1, "edit_window_minutes": 0})
    assert response.get_json() == {**defaults, "premoderation": "new_users",
                                   "banned_words": ["Spam", "CASINO"], "flag_threshold": 1,
                                   "edit_window_minutes": 0}
    assert moderator.get("/api/v1/moderation/settings").get_json() == response.get_json()
    assert api.put("/api/v1/moderation/settings", {}).get_json() == response.get_json()


@pytest.mark.parametrize("payload, field", [
    ({"premoderation": "some"}, "premoderation"),
    ({"trusted_after": -1}, "trusted_after"),
    ({"max_links": "3"}, "max_links"),
    ({"max_links": 2.5}, "max_links"),
    ({"flag_threshold": 0}, "flag_threshold"),
    ({"edit_window_minutes": -5}, "edit_window_minutes"),
    ({"banned_words": "spam"}, "banned_words"),
    ({"banned_words": [""]}, "banned_words.0"),
    ({"suspect_words": ["ok", 3]}, "suspect_words.1"),
    ({"suspect_words": ["!!!"]}, "suspect_words"),
    ({"banned_words": ["w"] * 1001}, "banned_words"),
    ({"banned_words": ["x" * 101]}, "banned_words.0"),
    ({"trusted_after": None}, "trusted_after"),
    ({"flag_threshold": True}, "flag_threshold"),
])
def test_invalid_settings_are_422_and_not_stored(app, login, admin, moderator, payload, field):
    before = moderator.get("/api/v1/moderation/settings").get_json()
    response = login(admin).put("/api/v1/moderation/settings", {"max_links": 1, **payload})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert moderator.get("/api/v1/moderation/settings").get_json() == before


# -- concurrency ---------------------------------------------------------------------------------

def test_moderators_deciding_at_once_count_each_comment_once(app, login, admin, alice, make_user,
                                                             article):
    import threading
    made = pending_comments(login, admin, login(alice), 6)
    clients = [login(make_user(f"m{i}", role="moderator")) for i in range(4)]
    barrier, answers = threading.Barrier(len(clients)), []

    def approve_all(api):
        barrier.wait()
        answers.append(api.post("/api/v1/moderation/bulk", {"ids": made, "action": "approve"}).status_code)

    threads = [threading.Thread(target=approve_all, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Whoever comes second confirms what is already approved (200): each comment leaves pending once.
    assert sorted(answers) == [200, 200, 200, 200]
    assert count(login) == 6
    approvals = [e for e in events(app) if e[0] == "approve"]
    assert sorted(e[2] for e in approvals if e[4] == "pending") == sorted(made)
    assert len(approvals) == 24 and all(e[5] == "approved" for e in approvals)
