"""Comments: posting, replies, reading threads, sorting, visibility, edit, delete, votes, flags."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Comment, Vote

from .conftest import ALLOWED_ORIGIN
from .factories import (
    assert_error,
    post_comment,
    recorded_statements,
    seed_thread,
    snapshot,
)


def _age_comments(app, by):
    with app.app_context():
        for comment in db.session.scalars(select(Comment)):
            comment.created_at -= by
        db.session.commit()


def stored_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Comment.id)))


def test_post_top_level_comment(app, login, alice, article):
    response = post_comment(login(alice), "Hello *world*")
    assert response.status_code == 201
    comment = response.get_json()["comment"]
    assert comment["status"] == "approved"
    assert comment["author"] == {"id": alice.id, "username": "alice", "display_name": "Alice"}
    assert comment["body_html"] == "<p>Hello <em>world</em></p>"
    assert comment["body"] == "Hello *world*"
    assert comment["depth"] == 0 and comment["parent_id"] is None
    assert comment["article"] == "a1"
    assert comment["created_at"].endswith("Z")
    assert comment["replies"] == [] and comment["reply_count"] == 0
    assert login().get("/api/v1/articles/a1").get_json()["comment_count"] == 1


def test_post_requires_login_and_csrf(app, login, alice, article, client):
    assert client.post("/api/v1/articles/a1/comments", json={"body": "hi"}).status_code == 401
    api = login(alice)
    response = api.client.post("/api/v1/articles/a1/comments", json={"body": "hi"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert stored_count(app) == 0


def test_a_post_reads_its_caller_beside_the_article_and_answers_it_first(app, login, alice, mod, article):
    """A post reads who calls in the statement that reads its article; a bad token or an ended session
    is still 401 before an unknown article (404) or a bad body (422), a ban is still 403."""
    as_alice = login(alice)
    token = as_alice.post("/api/v1/auth/tokens", {"name": "cms"}).get_json()["token"]
    client = app.test_client()
    for key, payload in (("a1", {"body": "hi"}), ("nope", {"body": "hi"}), ("a1", {"body": ""})):
        for bad in ("Bearer not-a-token", "Basic abc"):
            response = client.post(f"/api/v1/articles/{key}/comments", json=payload, headers={"Authorization": bad})
            assert response.status_code == 401, (key, payload, bad)
    good = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/articles/nope/comments", json={"body": "hi"}, headers=good).status_code == 404
    assert client.post("/api/v1/articles/a1/comments", json={"body": ""}, headers=good).status_code == 422
    posted = client.post("/api/v1/articles/a1/comments", json={"body": "by token"}, headers=good)
    assert posted.status_code == 201 and posted.get_json()["comment"]["author"]["id"] == alice.id
    ended = login(alice)  # its cookie, kept by a thief after the session ended: nobody is calling
    stolen = ended.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert ended.post("/api/v1/auth/logout").status_code == 204
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    response = thief.post("/api/v1/articles/a1/comments", json={"body": "with a stolen cookie"},
                          headers={"X-CSRF-Token": ended.csrf, "Origin": ALLOWED_ORIGIN})
    assert response.status_code == 401, response.get_json()
    assert login(mod).post(f"/api/v1/moderation/users/{alice.id}/ban", {"reason": "abuse"}).status_code == 200
    for banned in (as_alice, None):
        response = (post_comment(banned, "while banned") if banned else
                    client.post("/api/v1/articles/a1/comments", json={"body": "while banned"}, headers=good))
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "banned"
    assert stored_count(app) == 1


def test_server_computes_author_status_depth(app, login, alice, bob, article):
    response = post_comment(login(alice), "hi", status="rejected", author_id=bob.id, depth=7, id=999,
                            score=1000, pinned=True, body_html="<script>x</script>", article_id="a2")
    assert response.status_code == 201
    comment = response.get_json()["comment"]
    assert comment["author"]["id"] == alice.id
    assert (comment["status"], comment["depth"], comment["score"], comment["pinned"]) == ("approved", 0, 0, False)
    assert comment["id"] != 999 and comment["body_html"] == "<p>hi</p>"


def test_replies_nest_and_compute_root(app, login, alice, bob, article):
    a, b = login(alice), login(bob)
    top = post_comment(a, "top").get_json()["comment"]
    reply = post_comment(b, "reply", parent_id=top["id"]).get_json()["comment"]
    deeper = post_comment(a, "deeper", parent_id=reply["id"]).get_json()["comment"]
    assert (reply["depth"], deeper["depth"]) == (1, 2)
    with app.app_context():
        assert db.session.get(Comment, deeper["id"]).root_id == top["id"]
    thread = login().get("/api/v1/articles/a1/comments").get_json()
    assert thread["total"] == 3
    (first,) = thread["comments"]
    assert first["reply_count"] == 1
    assert first["replies"][0]["replies"][0]["id"] == deeper["id"]


def test_depth_cap(app, login, alice, config, article):
    config["MAX_DEPTH"] = 2
    from app import create_app
    capped = create_app(config)
    from .conftest import ApiClient
    api = ApiClient(capped.test_client(), alice)
    parent = None
    for depth in range(3):
        response = post_comment(api, f"level {depth}", **({"parent_id": parent} if parent else {}))
        assert response.status_code == 201
        parent = response.get_json()["comment"]["id"]
    response = post_comment(api, "too deep", parent_id=parent)
    assert response.status_code == 422
    assert "parent_id" in response.get_json()["error"]["fields"]


def test_parent_must_be_in_the_same_article(app, login, alice, make_article, article):
    make_article("a2")
    api = login(alice)
    other = post_comment(api, "elsewhere", key="a2").get_json()["comment"]
    assert post_comment(api, "reply", parent_id=other["id"]).status_code == 404
    assert post_comment(api, "reply", parent_id=987654).status_code == 404
    assert stored_count(app) == 1


def test_duplicate_within_a_minute_is_409(app, login, alice, article):
    api = login(alice)
    assert post_comment(api, "same words").status_code == 201
    response = post_comment(api, "same words")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    _age_comments(app, timedelta(minutes=2))
    assert post_comment(api, "same words").status_code == 201


@pytest.mark.parametrize("body", ["", "   \n\t ", "a\u0000b", "x" * 10001, "&nbsp;", "\u200b\u200b"])
def test_invalid_bodies_are_422(app, login, alice, article, body):
    response = post_comment(login(alice), body)
    assert response.status_code == 422, response.get_json()
    assert "body" in response.get_json()["error"]["fields"]
    assert stored_count(app) == 0


@pytest.mark.parametrize("body", [123, True, None, [], {}])
def test_wrong_body_types_are_422(app, login, alice, article, body):
    assert login(alice).post("/api/v1/articles/a1/comments", {"body": body}).status_code == 422
    assert stored_count(app) == 0


@pytest.mark.parametrize("parent", ["5", 1.5, True, -1, 0, 2**63, [5], {"id": 5}, ""])
def test_bad_parent_ids_are_422(app, login, alice, article, parent):
    assert post_comment(login(alice), "hi", parent_id=parent).status_code == 422


def test_text_is_normalized(app, login, alice, article):
    comment = post_comment(login(alice), "Cafe\u0301 \x07bell\r\nline").get_json()["comment"]
    assert comment["body"] == "Café bell\nline"


def test_maximum_length_in_code_points(app, login, alice, article):
    assert post_comment(login(alice), "\U0001F4A9" * 10000).status_code == 201
    assert post_comment(login(alice), "\U0001F4A9" * 10001).status_code == 422


def test_implicit_article_creation(app, login, alice):
    api = login(alice)
    response = post_comment(api, "first!", key="new-story", title="New story", url=f"{ALLOWED_ORIGIN}/new")
    assert response.status_code == 201
    article = login().get("/api/v1/articles/new-story").get_json()
    assert article["title"] == "New story" and article["comment_count"] == 1
    assert post_comment(api, "x", key="evil", url="https://evil.example/x").status_code == 404
    assert post_comment(api, "x", key="bad", url="javascript:alert(1)").status_code == 422
    assert post_comment(api, "x", key="unknown").status_code == 404


def test_a_refused_post_never_creates_its_article(app, login, alice, article):
    api = login(alice)
    elsewhere = post_comment(api, "on another article").get_json()["comment"]["id"]
    page = {"title": "Not yet", "url": f"{ALLOWED_ORIGIN}/not-yet"}
    assert post_comment(api, "   ", key="not-yet", **page).status_code == 422
    assert post_comment(api, "a reply", key="not-yet", parent_id=elsewhere, **page).status_code == 404
    assert login().get("/api/v1/articles/not-yet").status_code == 404
    assert post_comment(api, "now it exists", key="not-yet", **page).status_code == 201
    assert login().get("/api/v1/articles/not-yet").get_json()["comment_count"] == 1


def test_closed_article_is_403(app, login, alice, make_article):
    make_article("shut", status="closed")
    response = post_comment(login(alice), "hi", key="shut")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "article_closed"


def test_pagination_walk_has_no_gaps_or_duplicates_while_posting(app, login, alice, bob, article):
    a = login(alice)
    for i in range(25):
        assert post_comment(a, f"comment {i}").status_code == 201
    b = login(bob)
    for sort in ("oldest", "newest", "top"):
        seen, after, pages = [], None, 0
        while True:
            url = f"/api/v1/articles/a1/comments?sort={sort}&limit=7" + (f"&after={after}" if after else "")
            page = login().get(url).get_json()
            seen += [c["id"] for c in page["comments"]]
            pages += 1
            if pages == 2:
                post_comment(b, f"arrived during the {sort} walk")
            after = page["next"]
            if not after:
                break
        assert len(seen) == len(set(seen))
        assert len(seen) >= 25 + (1 if sort == "oldest" else 0)


def test_sorting(app, login, alice, bob, make_user, article):
    a = login(alice)
    ids = [post_comment(a, f"c{i}").get_json()["comment"]["id"] for i in range(3)]
    voter = login(bob)
    voter.put(f"/api/v1/comments/{ids[1]}/vote", {"value": 1})
    def order(sort):
        return [c["id"] for c in login().get(f"/api/v1/articles/a1/comments?sort={sort}").get_json()["comments"]]
    assert order("oldest") == ids
    assert order("newest") == ids[::-1]
    assert order("top") == [ids[1], ids[0], ids[2]]
    assert login().get("/api/v1/articles/a1/comments?sort=password_hash").status_code == 422


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "limit=1e9", "replies=-2", "limit=0"])
def test_bad_limits_are_422(app, article, client, query):
    assert client.get(f"/api/v1/articles/a1/comments?{query}").status_code == 422


def test_limits_are_clamped_and_bad_cursor_is_400(app, article, client):
    assert client.get("/api/v1/articles/a1/comments?limit=100000").status_code == 200
    response = client.get("/api/v1/articles/a1/comments?after=not-a-cursor")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_replies_limit_and_more_replies(app, login, alice, bob, article):
    a, b = login(alice), login(bob)
    top = post_comment(a, "top").get_json()["comment"]["id"]
    replies = [post_comment(b, f"reply {i}", parent_id=top).get_json()["comment"]["id"] for i in range(7)]
    page = login().get("/api/v1/articles/a1/comments?replies=3").get_json()
    first = page["comments"][0]
    assert [r["id"] for r in first["replies"]] == replies[:3]
    assert (first["reply_count"], first["more_replies"]) == (7, 4)
    zero = login().get("/api/v1/articles/a1/comments?replies=0").get_json()["comments"][0]
    assert zero["replies"] == [] and zero["more_replies"] == 7
    walked, after = [], None
    while True:
        url = f"/api/v1/comments/{top}/replies?limit=3" + (f"&after={after}" if after else "")
        data = login().get(url).get_json()
        walked += [c["id"] for c in data["comments"]]
        after = data["next"]
        if not after:
            break
    assert walked == replies


def _hold(app, comment_id, status="pending"):
    from app.discussion.lifecycle import change_status
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), status)
        db.session.commit()


def test_pending_comment_visible_to_author_and_moderators_only(app, login, alice, bob, make_user, article):
    comment = post_comment(login(alice), "held").get_json()["comment"]["id"]
    _hold(app, comment)
    mine = login(alice).get("/api/v1/articles/a1/comments").get_json()
    assert mine["comments"][0]["status"] == "pending"
    assert login(bob).get("/api/v1/articles/a1/comments").get_json()["comments"] == []
    assert login().get("/api/v1/articles/a1/comments").get_json()["comments"] == []
    assert login(bob).get(f"/api/v1/comments/{comment}").status_code == 404
    mod = login(make_user("mod", role="moderator"))
    seen = mod.get(f"/api/v1/comments/{comment}").get_json()
    assert seen["status"] == "pending" and seen["body"] == "held"
    hidden_404 = login(bob).get(f"/api/v1/comments/{comment}")
    missing_404 = login(bob).get("/api/v1/comments/99999")
    assert hidden_404.get_json() == missing_404.get_json()


def test_tombstones_keep_replies_and_vanish_without_them(app, login, alice, bob, article):
    a, b = login(alice), login(bob)
    top = post_comment(a, "parent").get_json()["comment"]["id"]
    reply = post_comment(b, "child", parent_id=top).get_json()["comment"]["id"]
    assert a.delete(f"/api/v1/comments/{top}").status_code == 204
    thread = login().get("/api/v1/articles/a1/comments").get_json()
    (stone,) = thread["comments"]
    assert stone["deleted"] is True and stone["status"] == "deleted"
    assert stone["body_html"] is None and stone["author"] is None and "body" not in stone
    assert stone["replies"][0]["id"] == reply
    assert thread["total"] == 1
    _hold(app, reply, "rejected")
    assert login().get("/api/v1/articles/a1/comments").get_json()["comments"] == []
    assert login().get(f"/api/v1/comments/{top}").status_code == 404


def test_deep_tombstone_chain_is_kept_for_a_visible_grandchild(app, login, alice, bob, article):
    a, b = login(alice), login(bob)
    top = post_comment(a, "top").get_json()["comment"]["id"]
    mid = post_comment(b, "mid", parent_id=top).get_json()["comment"]["id"]
    leaf = post_comment(a, "leaf", parent_id=mid).get_json()["comment"]["id"]
    _hold(app, top, "spam")
    _hold(app, mid, "rejected")
    (stone,) = login().get("/api/v1/articles/a1/comments").get_json()["comments"]
    assert stone["deleted"] and stone["replies"][0]["deleted"]
    assert stone["replies"][0]["replies"][0]["id"] == leaf


def test_edit_within_window_only(app, login, alice, bob, make_user, article):
    api = login(alice)
    comment = post_comment(api, "first *draft*").get_json()["comment"]["id"]
    response = api.patch(f"/api/v1/comments/{comment}", {"body": "second **draft**", "status": "approved",
                                                         "parent_id": comment})
    assert response.status_code == 200
    data = response.get_json()
    assert data["body_html"] == "<p>second <strong>draft</strong></p>"
    assert data["edited_at"] is not None and data["parent_id"] is None
    assert login(bob).patch(f"/api/v1/comments/{comment}", {"body": "pwned"}).status_code == 403
    _age_comments(app, timedelta(minutes=16))
    assert api.patch(f"/api/v1/comments/{comment}", {"body": "late"}).status_code == 403
    assert api.delete(f"/api/v1/comments/{comment}").status_code == 403
    mod = login(make_user("mod", role="moderator"))
    assert mod.patch(f"/api/v1/comments/{comment}", {"body": "moderated"}).status_code == 200
    with app.app_context():
        assert db.session.get(Comment, comment).body == "moderated"


def test_delete_by_others_is_refused(app, login, alice, bob, article, client):
    comment = post_comment(login(alice), "mine").get_json()["comment"]["id"]
    assert login(bob).delete(f"/api/v1/comments/{comment}").status_code == 403
    assert client.delete(f"/api/v1/comments/{comment}").status_code == 401
    assert login(alice).delete(f"/api/v1/comments/{comment}").status_code == 204
    assert login(alice).delete(f"/api/v1/comments/{comment}").status_code == 404
    assert login().get("/api/v1/articles/a1").get_json()["comment_count"] == 0


def test_votes(app, login, alice, bob, make_user, article):
    comment = post_comment(login(alice), "vote me").get_json()["comment"]["id"]
    url = f"/api/v1/comments/{comment}/vote"
    b, c = login(bob), login(make_user("carol"))
    assert login(alice).put(url, {"value": 1}).status_code == 403
    assert b.put(url, {"value": 1}).get_json() == {"score": 1, "upvotes": 1, "downvotes": 0, "my_vote": 1}
    assert b.put(url, {"value": 1}).get_json()["score"] == 1
    assert c.put(url, {"value": -1}).get_json() == {"score": 0, "upvotes": 1, "downvotes": 1, "my_vote": -1}
    assert b.put(url, {"value": -1}).get_json() == {"score": -2, "upvotes": 0, "downvotes": 2, "my_vote": -1}
    assert b.put(url, {"value": 0}).get_json() == {"score": -1, "upvotes": 0, "downvotes": 1, "my_vote": 0}
    for bad in (2, 1000, "1", True, 1.0, None):
        assert b.put(url, {"value": bad}).status_code == 422
    assert c.get("/api/v1/articles/a1/comments").get_json()["comments"][0]["my_vote"] == -1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 1


def test_flags(app, login, alice, bob, article):
    comment = post_comment(login(alice), "flag me").get_json()["comment"]["id"]
    url = f"/api/v1/comments/{comment}/flags"
    response = login(bob).post(url, {"reason": "abuse", "note": "rude"})
    assert response.status_code == 201
    flag = response.get_json()["flag"]
    assert (flag["reason"], flag["note"]) == ("abuse", "rude") and flag["id"] and flag["created_at"]
    assert login(bob).post(url, {"reason": "spam"}).status_code == 409
    assert login(alice).post(url, {"reason": "nonsense"}).status_code == 422
    assert login(bob).post("/api/v1/comments/424242/flags", {"reason": "spam"}).status_code == 404


def _count_queries(app, path):
    with recorded_statements(app) as statements:
        response = app.test_client().get(path)
    assert response.status_code == 200
    return len(statements)


def test_reading_a_thread_costs_a_constant_number_of_queries(app, alice):
    seed_thread(app, "small", 10, first_id=1_000_000)
    seed_thread(app, "large", 10_000, first_id=2_000_000)
    small = _count_queries(app, "/api/v1/articles/small/comments?limit=20&replies=5")
    large = _count_queries(app, "/api/v1/articles/large/comments?limit=20&replies=5")
    assert small == large
    assert large <= 5
    walk = _count_queries(app, "/api/v1/articles/large/comments?limit=200&replies=500")
    assert walk == large


def _post_statements(app, api, key, **fields):
    """The SQL statements one POST of a comment runs (BEGIN and COMMIT not included)."""
    api.get("/api/v1/auth/me")  # the CSRF token, fetched before counting
    with recorded_statements(app) as statements:
        response = post_comment(api, f"counted post on {key} {fields}", key=key, **fields)
    assert response.status_code == 201, response.get_json()
    return statements


def test_posting_costs_a_fixed_number_of_statements(app, login, alice, make_article):
    """Posting is cheap whatever the thread: no statement per ancestor, reply or comment."""
    make_article(key="empty")
    seed_thread(app, "large", 2_000, first_id=3_000_000)
    api = login(alice)
    deep = None
    for level in range(8):  # a reply eight levels down
        fields = {"parent_id": deep} if deep else {}
        deep = post_comment(api, f"level {level}", key="large", **fields).get_json()["comment"]["id"]
    top = _post_statements(app, api, "empty")
    on_large = _post_statements(app, api, "large")
    reply = _post_statements(app, api, "large", parent_id=deep)
    assert len(on_large) == len(top)
    assert len(reply) == len(top) + 2  # the parent, and its count of shown replies (shown.py)
    # the caller's session beside the article (one statement), the settings, the duplicate check's turn
    # (PostgreSQL), then the writes: the comment (unless a duplicate), the counters and the event (the
    # outbox's row: notifications and webhooks cost a post this one INSERT), as one statement on
    # PostgreSQL (storing.py)
    assert all(table in top[0] for table in ("FROM articles", "login_sessions")), top[0]
    writes = [statement for statement in top if not statement.startswith("SELECT")]
    assert sum("INSERT INTO events" in statement for statement in writes) == 1, writes
    if app.config["DATABASE_URL"].startswith("postgres"):
        assert len(writes) == 1, writes
        assert all(part in writes[0] for part in ("INSERT INTO comments", "UPDATE articles")), writes
        assert len(top) == 4, top
    else:
        assert len(writes) == 3, writes
        assert len(top) == 5, top


def test_anonymous_pages_are_cached_until_the_thread_changes(app, login, alice, bob, mod, article):
    api, voter = login(alice), login(bob)
    first = post_comment(api, "first").get_json()["comment"]["id"]
    anonymous = login()
    def ids():
        return [(c["id"], c["score"], c["pinned"], c["body_html"])
                for c in anonymous.get("/api/v1/articles/a1/comments").get_json()["comments"]]
    assert [i[0] for i in ids()] == [first]
    second = post_comment(api, "second").get_json()["comment"]["id"]
    assert [i[0] for i in ids()] == [first, second]
    voter.put(f"/api/v1/comments/{second}/vote", {"value": 1})
    assert ids()[1][1] == 1
    api.patch(f"/api/v1/comments/{first}", {"body": "first, edited"})
    assert ids()[0][3] == "<p>first, edited</p>"
    login(mod).post(f"/api/v1/moderation/comments/{second}", {"action": "pin"})
    assert ids()[0][:3] == (second, 1, True)
    login(mod).post(f"/api/v1/moderation/comments/{second}", {"action": "reject"})
    assert [i[0] for i in ids()] == [first]
    api.delete(f"/api/v1/comments/{first}")
    assert ids() == []


# -- Thread integrity and hostile bodies (bad-requests.md R3-R10, U3-U8, W6, W7) -----------------------------

def test_r3_parents_cannot_be_rewired_into_a_cycle(world):
    """bad-requests.md R3."""
    alice = world.as_alice
    c1 = post_comment(alice, "c1").get_json()["comment"]["id"]
    c3 = post_comment(alice, "c3", parent_id=c1).get_json()["comment"]["id"]
    for target, parent in ((c1, c3), (c1, c1)):
        response = alice.patch(f"/api/v1/comments/{target}", {"body": f"rewired {target}", "parent_id": parent})
        assert response.status_code in (200, 400, 422)
    with world.app.app_context():
        assert db.session.get(Comment, c1).parent_id is None
        assert db.session.get(Comment, c3).parent_id == c1
    assert world.anonymous.get("/api/v1/articles/a1/comments?replies=500").status_code == 200


def test_r5_and_r6_hidden_or_deleted_parents_answer_like_missing_ones(world):
    """bad-requests.md R5, R6."""
    before = snapshot(world.app)
    missing = post_comment(world.as_bob, "reply to nothing", parent_id=world.missing)
    assert_error(missing, 404, 422)
    for parent in world.hidden:
        response = post_comment(world.as_bob, f"reply to {parent}", parent_id=parent)
        assert response.status_code == missing.status_code
        assert response.get_json() == missing.get_json()
        assert "secret" not in response.get_data(as_text=True)
    assert snapshot(world.app) == before


def test_r10_a_deleted_comment_cannot_be_edited(world):
    """bad-requests.md R10."""
    before = snapshot(world.app)
    assert_error(world.as_alice.patch(f"/api/v1/comments/{world.deleted}", {"body": "resurrected"}), 404, 409)
    assert snapshot(world.app) == before


def test_u3_u4_unusual_characters_round_trip(world):
    """bad-requests.md U3, U4."""
    for body in ("\ufffe\uffff\U0010ffff\ue000 odd", "💩 𝕏 four bytes"):
        response = post_comment(world.as_bob, body)
        assert response.status_code in (201, 422)
        if response.status_code == 201:
            comment_id = response.get_json()["comment"]["id"]
            assert world.as_bob.get(f"/api/v1/comments/{comment_id}").get_json()["body"] == body
    assert world.as_bob.get("/api/v1/articles/a1/comments").status_code == 200


def test_u8_combining_marks_count_as_code_points(world):
    """bad-requests.md U8."""
    assert post_comment(world.as_bob, "e" + "\u0301" * 1000).status_code == 201
    assert_error(post_comment(world.as_bob, "e" + "\u0301" * 10_001), 422)


@pytest.mark.parametrize("body", ["<p></p>", "<script></script>"])
def test_w6_markup_only_bodies_are_refused_or_shown_as_text(world, body):
    """bad-requests.md W6."""
    response = post_comment(world.as_bob, body)
    if response.status_code == 201:
        html = response.get_json()["comment"]["body_html"]
        assert "&lt;" in html and "<script" not in html and "<p></p>" not in html
    else:
        assert_error(response, 400, 422)


@pytest.mark.parametrize("fmt", ["html", "raw", "../../x"])
def test_w7_formats_other_than_markdown_are_never_used(world, fmt):
    """bad-requests.md W7."""
    response = post_comment(world.as_bob, f"<b>bold</b> {fmt}", format=fmt)
    if response.status_code == 201:
        assert "<b>" not in response.get_json()["comment"]["body_html"]
    else:
        assert_error(response, 400, 422)

