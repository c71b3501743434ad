"""Pages everyone shares: logged-in readers get the anonymous page plus their own marks, the public tree
is read through Comment.shown_replies (never a whole subtree), and nothing cached is ever stale, on
whichever worker it was cached."""
import json
import random

import pytest

from app import create_app
from app.discussion import articles, page_cache, shared_pages, shown, threads
from app.extensions import db
from app.models import Comment, User

from .conftest import ApiClient
from .factories import new_comment, recorded_statements, set_status

STATUSES = ("approved", "approved", "approved", "pending", "rejected", "spam", "deleted")


def _thread(client, key="a1", **query):
    args = "&".join(f"{name}={value}" for name, value in {"limit": 50, "replies": 50, **query}.items())
    response = client.get(f"/api/v1/articles/{key}/comments?{args}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _find(data, comment_id):
    stack = list(data["comments"]) if "comments" in data else [data]
    while stack:
        comment = stack.pop()
        if comment["id"] == comment_id:
            return comment
        stack.extend(comment["replies"])
    return None


def _shown_counts(app) -> dict[int, int]:
    with app.app_context():
        return dict(db.session.execute(db.select(Comment.id, Comment.shown_replies)).all())


def test_public_pages_match_the_full_tree_walk(app, login, make_user, article):
    """Random trees and statuses, moved by the real operations: the pages built from shown_replies equal
    the ones built by walking every comment's skeleton, and the counts equal a recount from scratch."""
    rng = random.Random(15)
    authors = [login(make_user(f"author{i}")) for i in range(3)]
    stranger = make_user("stranger")
    ids: list[int] = []
    status: dict[int, str] = {}
    for n in range(50):
        open_ = [i for i in ids if status[i] == "approved"]  # one can reply only to what one sees
        parent = rng.choice(open_) if open_ and rng.random() < 0.75 else None
        fields = {"parent_id": parent} if parent else {}
        ids.append(new_comment(rng.choice(authors), f"comment {n}", **fields)["id"])
        status[ids[-1]] = "approved"
        if rng.random() < 0.4:  # statuses change while the tree grows
            changed = rng.choice(ids)
            status[changed] = "deleted" if status[changed] == "deleted" else rng.choice(STATUSES)
            set_status(app, changed, status[changed])
    for comment_id in rng.sample([i for i in ids if status[i] != "deleted"], 10):
        set_status(app, comment_id, "approved")  # some come back
    assert authors[2].delete("/api/v1/me").status_code == 204  # their comments become tombstones

    counted = _shown_counts(app)
    with app.app_context():
        shown.recount()
        db.session.commit()
    assert _shown_counts(app) == counted

    with app.test_request_context():
        reader = db.session.get(User, stranger.id)
        head = articles.thread_head("a1")
        for sort in threads.SORTS:
            for limit, replies in ((3, 2), (50, 50)):
                public = threads.thread_page(head, None, sort=sort, limit=limit, replies=replies)
                walked = threads.thread_page(head, reader, sort=sort, limit=limit, replies=replies)
                assert public == walked
                while public["next"]:
                    after = public["next"]
                    public = threads.thread_page(head, None, sort=sort, limit=limit, replies=replies, after=after)
                    walked = threads.thread_page(head, reader, sort=sort, limit=limit, replies=replies, after=after)
                    assert public == walked
        for comment_id in ids:
            outcomes = []
            for viewer in (None, reader):
                try:
                    outcomes.append((threads.comment_detail(comment_id, viewer, replies=2),
                                     threads.replies_page(comment_id, viewer, limit=2, replies=1)))
                except Exception as error:  # both must refuse alike (404)
                    outcomes.append(getattr(error, "status", error))
            assert outcomes[0] == outcomes[1], comment_id


def test_a_tombstone_appears_and_goes_with_its_last_shown_reply(app, login, alice, bob, article):
    top = new_comment(login(alice), "top")["id"]
    middle = new_comment(login(bob), "middle", parent_id=top)["id"]
    leaf = new_comment(login(alice), "leaf", parent_id=middle)["id"]
    set_status(app, middle, "deleted")
    page = _thread(app.test_client())
    assert _find(page, middle)["deleted"] and _find(page, leaf)["body_html"]
    assert _find(page, top)["reply_count"] == 1
    set_status(app, leaf, "rejected")  # the tombstone has nothing left to hold
    page = _thread(app.test_client())
    assert _find(page, middle) is None and _find(page, top)["reply_count"] == 0
    assert app.test_client().get(f"/api/v1/comments/{middle}").status_code == 404
    set_status(app, leaf, "approved")
    assert _find(_thread(app.test_client()), middle)["deleted"]


def test_a_logged_in_reader_sees_their_votes_sources_and_pending_comments_on_the_shared_page(
        app, login, alice, bob, article):
    as_alice, as_bob = login(alice), login(bob)
    hers = new_comment(as_alice, "alice *writes*")["id"]
    his = new_comment(as_bob, "bob writes")["id"]
    reply = new_comment(as_bob, "bob replies", parent_id=hers)["id"]
    assert as_alice.put(f"/api/v1/comments/{his}/vote", {"value": 1}).status_code == 200
    assert as_alice.put(f"/api/v1/comments/{reply}/vote", {"value": -1}).status_code == 200
    anonymous = _thread(app.test_client())  # fills the shared page
    assert all("body" not in c for c in (_find(anonymous, i) for i in (hers, his, reply)))
    assert {_find(anonymous, i)["my_vote"] for i in (hers, his, reply)} == {0}

    seen_by_alice = _thread(as_alice)
    assert _find(seen_by_alice, hers)["body"] == "alice *writes*"
    assert "body" not in _find(seen_by_alice, his)
    assert (_find(seen_by_alice, his)["my_vote"], _find(seen_by_alice, reply)["my_vote"]) == (1, -1)
    seen_by_bob = _thread(as_bob)
    assert "body" not in _find(seen_by_bob, hers) and _find(seen_by_bob, reply)["body"] == "bob replies"
    assert {_find(seen_by_bob, i)["my_vote"] for i in (hers, his, reply)} == {0}
    # Apart from the marks, the very same page.
    for page in (seen_by_alice, seen_by_bob):
        for comment_id in (hers, his, reply):
            _find(page, comment_id).pop("body", None)
            _find(page, comment_id)["my_vote"] = 0
        assert page == anonymous

    pending = new_comment(as_alice, "alice waits", parent_id=his)["id"]
    set_status(app, pending, "pending")
    assert _find(_thread(as_alice), pending)["status"] == "pending"
    assert _find(_thread(as_alice), his)["reply_count"] == 1
    assert _find(_thread(as_bob), pending) is None and _find(_thread(as_bob), his)["reply_count"] == 0
    detail = as_alice.get(f"/api/v1/comments/{pending}").get_json()
    assert detail["status"] == "pending" and detail["body"] == "alice waits"
    assert as_bob.get(f"/api/v1/comments/{pending}").status_code == 404


def _personal(app, reader_id: int, call, *args, **kwargs):
    """A page built for the reader alone (the reference the shared page plus overlay must equal)."""
    with app.test_request_context():
        reader = db.session.get(User, reader_id)
        try:
            return call(*args, viewer=reader, **kwargs) if call is threads.thread_page else call(
                *args, reader, **kwargs)
        except Exception as error:
            return getattr(error, "status", error)


def _as_reader(api, path):
    response = api.get(path)
    return response.get_json() if response.status_code == 200 else response.status_code


@pytest.mark.parametrize("seed", [3, 16, 29])
def test_a_readers_pending_comments_are_placed_in_the_shared_page_as_in_a_page_of_their_own(
        app, login, make_user, article, seed):
    """Random trees where the reader has pending comments everywhere (top-level, nested, under pending
    ones, under tombstones, holding replies of others): every page, replies page and comment, in every
    order and window, equals the page built for the reader alone."""
    rng = random.Random(seed)
    reader = make_user("reader")
    authors = [login(reader)] + [login(make_user(f"writer{i}")) for i in range(2)]
    as_reader = authors[0]
    ids, status, by_reader = [], {}, set()
    for n in range(45):
        open_ = [i for i in ids if status[i] == "approved"]
        parent = rng.choice(open_) if open_ and rng.random() < 0.7 else None
        author = rng.choice(authors)
        fields = {"parent_id": parent} if parent else {}
        ids.append(new_comment(author, f"comment {n}", **fields)["id"])
        status[ids[-1]] = "approved"
        if author is as_reader:
            by_reader.add(ids[-1])
        if rng.random() < 0.3:
            changed = rng.choice(ids)
            status[changed] = "deleted" if status[changed] == "deleted" else rng.choice(STATUSES)
            set_status(app, changed, status[changed])
        if author is as_reader and rng.random() < 0.5:
            status[ids[-1]] = "pending"
            set_status(app, ids[-1], "pending")
        if rng.random() < 0.2 and author is not as_reader:
            as_reader.put(f"/api/v1/comments/{ids[-1]}/vote", {"value": rng.choice((1, -1))})
    assert {i for i in by_reader if status[i] == "pending"}, "the reader must have pending comments"

    with app.test_request_context():
        head = articles.thread_head("a1")
    for sort in threads.SORTS:
        for limit, replies in ((2, 1), (4, 2), (50, 50)):
            after = None
            while True:
                query = f"sort={sort}&limit={limit}&replies={replies}" + (f"&after={after}" if after else "")
                app.test_client().get(f"/api/v1/articles/a1/comments?{query}")  # the shared page, cached
                served = _as_reader(as_reader, f"/api/v1/articles/a1/comments?{query}")
                expected = _personal(app, reader.id, threads.thread_page, head, sort=sort, limit=limit,
                                     replies=replies, after=after)
                assert served == expected, (sort, limit, replies, after)
                after = served["next"]
                if after is None:
                    break
    for comment_id in ids:
        for path, call, kwargs in ((f"/api/v1/comments/{comment_id}?replies=1", threads.comment_detail,
                                    {"replies": 1}),
                                   (f"/api/v1/comments/{comment_id}/replies?limit=2&replies=1",
                                    threads.replies_page, {"limit": 2, "replies": 1})):
            app.test_client().get(path)
            assert _as_reader(as_reader, path) == _personal(app, reader.id, call, comment_id, **kwargs), path


def test_a_pending_reply_under_a_comment_hidden_from_everyone_else_shows_its_tombstone(
        app, login, alice, bob, article):
    """The one case own_pending leaves to a page built for the reader: the parent of their pending reply
    is hidden from the public, so it shows to them alone, as a tombstone holding the reply; and an
    empty replies page that only their pending reply fills."""
    as_alice, as_bob = login(alice), login(bob)
    top = new_comment(as_bob, "bob starts")["id"]
    middle = new_comment(as_bob, "bob goes on", parent_id=top)["id"]
    waiting = new_comment(as_alice, "alice waits", parent_id=middle)["id"]
    set_status(app, waiting, "pending")
    set_status(app, middle, "deleted")
    public = _thread(app.test_client())
    assert _find(public, middle) is None and _find(public, top)["reply_count"] == 0
    seen = _thread(as_alice)
    assert _find(seen, middle)["deleted"] and _find(seen, waiting)["status"] == "pending"
    assert _find(seen, top)["reply_count"] == 1
    with app.test_request_context():
        head = articles.thread_head("a1")
    assert seen == _personal(app, alice.id, threads.thread_page, head, limit=50, replies=50)
    lone = new_comment(as_bob, "bob alone")["id"]
    answer = new_comment(as_alice, "alice answers", parent_id=lone)["id"]
    set_status(app, answer, "pending")
    app.test_client().get(f"/api/v1/comments/{lone}/replies")
    replies = as_alice.get(f"/api/v1/comments/{lone}/replies").get_json()
    assert [c["id"] for c in replies["comments"]] == [answer] and replies["comments"][0]["body"] == "alice answers"
    assert replies == _personal(app, alice.id, threads.replies_page, lone)


def test_a_pending_reply_on_a_shared_page_costs_no_walk_of_the_thread(app, login, alice, bob, article):
    as_alice, as_bob = login(alice), login(bob)
    top = new_comment(as_bob, "bob starts")["id"]
    for n in range(5):
        new_comment(as_bob, f"bob again {n}", parent_id=top)
    waiting = new_comment(as_alice, "alice waits", parent_id=top)["id"]
    set_status(app, waiting, "pending")
    _thread(app.test_client(), replies=3)
    with recorded_statements(app) as statements:
        page = _thread(as_alice, replies=3)
    assert _find(page, waiting) is None  # the sixth reply: counted, not among the first three shown
    assert (_find(page, top)["reply_count"], _find(page, top)["more_replies"]) == (6, 3)
    assert len(statements) <= 5 and not any("root_id" in s or "RECURSIVE" in s for s in statements), statements


def test_a_logged_in_read_of_a_cached_page_costs_the_same_few_statements_whatever_the_thread(
        app, login, alice, bob, make_article, article):
    make_article("big")
    as_alice, as_bob = login(alice), login(bob)
    for key, size in (("a1", 3), ("big", 60)):
        previous = None
        for n in range(size):
            fields = {"parent_id": previous} if previous and n % 3 else {}
            previous = new_comment(as_bob if n % 2 else as_alice, f"{key} {n}", key=key, **fields)["id"]
            if n % 4 == 0:
                voter = as_bob if n % 2 == 0 else as_alice  # not the author
                assert voter.put(f"/api/v1/comments/{previous}/vote", {"value": 1}).status_code == 200
    costs, again = {}, {}
    for key in ("a1", "big"):
        _thread(app.test_client(), key)  # the shared page
        with recorded_statements(app) as statements:
            _thread(as_alice, key)
        costs[key] = statements
        with recorded_statements(app) as statements:
            _thread(as_alice, key)
        again[key] = statements
    # who calls beside the article's head (one statement), the reader's votes, the reader's own comments
    assert len(costs["big"]) == len(costs["a1"]) == 3, costs["big"]
    assert not any("root_id" in s or "WITH RECURSIVE" in s for s in costs["big"])
    # read again: the reader's marks are kept for this version of the page
    assert len(again["big"]) == len(again["a1"]) == 1, again["big"]
    assert "login_sessions" in again["big"][0] and "articles" in again["big"][0]


def test_a_logged_in_read_reads_who_calls_and_the_page_head_in_one_statement(app, login, alice, bob, article):
    """By session cookie or bearer token, on a thread, a comment or its replies: one statement once the
    page and the reader's marks are kept, as for an anonymous reader."""
    as_alice = login(alice)
    top = new_comment(login(bob), "a top comment")["id"]
    reply = new_comment(as_alice, "alice replies", parent_id=top)["id"]
    token = as_alice.post("/api/v1/auth/tokens", {"name": "cms"}).get_json()["token"]
    by_token = app.test_client()
    paths = ("/api/v1/articles/a1/comments", f"/api/v1/comments/{top}", f"/api/v1/comments/{top}/replies")
    for path in paths:
        for client, headers, needle in ((as_alice, {}, "login_sessions"),
                                        (by_token, {"Authorization": f"Bearer {token}"}, "api_tokens"),
                                        (app.test_client(), {}, None)):
            first = client.get(path, headers=headers)
            with recorded_statements(app) as statements:
                again = client.get(path, headers=headers)
            assert again.status_code == first.status_code == 200 and again.data == first.data
            assert len(statements) == 1, (path, statements)
            assert (needle in statements[0]) if needle else "users" not in statements[0], statements
        for client, headers in ((as_alice, {}), (by_token, {"Authorization": f"Bearer {token}"})):
            mine = _find(client.get(path, headers=headers).get_json(), reply)
            assert mine["body"] == "alice replies"  # the reader is known: their source is on the page
        assert "body" not in _find(app.test_client().get(path).get_json(), reply)


def test_a_page_read_answers_a_bad_bearer_token_first(app, login, alice, article):
    """The caller is read with the page's head, but a bad token is still 401 before a bad query or an
    unknown article, and a good one still sees its 404 and 422."""
    top = new_comment(login(alice), "a top comment")["id"]
    token = login(alice).post("/api/v1/auth/tokens", {"name": "cms"}).get_json()["token"]
    client = app.test_client()
    for path in ("/api/v1/articles/a1/comments", "/api/v1/articles/nope/comments?limit=0",
                 f"/api/v1/comments/{top}/replies?limit=x", "/api/v1/comments/999999", "/api/v1/comments/999999/replies"):
        for bad in ("Bearer not-a-token", "Basic abc"):
            response = client.get(path, headers={"Authorization": bad})
            assert response.status_code == 401, (path, bad)
            assert response.get_json()["error"]["code"] == "unauthorized"
    good = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/articles/nope/comments", headers=good).status_code == 404
    assert client.get("/api/v1/articles/a1/comments?limit=0", headers=good).status_code == 422
    assert client.get("/api/v1/articles/nope/comments?limit=0", headers=good).status_code == 422
    assert client.get("/api/v1/comments/999999/replies", headers=good).status_code == 404


def test_a_page_read_with_an_ended_session_is_anonymous(app, login, alice, article):
    as_alice = login(alice)
    top = new_comment(as_alice, "a top comment")["id"]
    assert _find(_thread(as_alice), top)["body"] == "a top comment"
    stolen = as_alice.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert as_alice.post("/api/v1/auth/logout").status_code in (200, 204)
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    for path in ("/api/v1/articles/a1/comments", f"/api/v1/comments/{top}", f"/api/v1/comments/{top}/replies"):
        response = thief.get(path)
        assert response.status_code == 200 and response.data == app.test_client().get(path).data
    assert thief.get("/api/v1/auth/me").get_json()["user"] is None


def test_a_page_built_again_after_a_post_serializes_only_the_comments_that_changed(
        app, login, alice, bob, article):
    """Shared pages are assembled from each comment's kept JSON: byte for byte the page's JSON, with
    every my_vote and body place where it belongs, and a post re-serializes the new comment and its
    parent (whose reply_count changed), not the thread."""
    as_alice, as_bob = login(alice), login(bob)
    tops = [new_comment(as_alice if n % 2 else as_bob, f"top *{n}* \"quoted\" é", )["id"] for n in range(4)]
    for n in range(6):
        new_comment(as_bob if n % 2 else as_alice, f"reply {n}", parent_id=tops[n % 2])
    set_status(app, tops[1], "deleted")  # a tombstone: it keeps its replies in place
    anonymous = app.test_client()

    def check_page():
        data = anonymous.get("/api/v1/articles/a1/comments?limit=50&replies=50").data
        with app.test_request_context():
            built = threads.thread_page(articles.thread_head("a1"), None, limit=50, replies=50)
            assert data == app.json.dumps(built, separators=(",", ":")).encode()
            shared = shared_pages.from_page(built, is_list=True)
        assert shared.data == data
        for comment_id, at in shared.votes.items():  # each "0" of my_vote, in its own comment
            marked = json.loads(data[:at] + b"-1" + data[at + 1:])
            assert [c["id"] for c in shared_pages.walk(marked["comments"]) if c["my_vote"]] == [comment_id]
        assert sorted(shared.votes) == sorted(c["id"] for c in shared_pages.walk(json.loads(data)["comments"]))
        for comment_id, at in shared.bodies.items():  # where each source goes, in its own comment
            marked = json.loads(data[:at] + b',"body":"src"' + data[at:])
            assert [c["id"] for c in shared_pages.walk(marked["comments"]) if "body" in c] == [comment_id]
        assert tops[1] not in shared.bodies and len(shared.bodies) == len(shared.votes) - 1  # the tombstone
        return data

    check_page()
    with app.app_context():
        kept = len(page_cache.fragments())
    new_comment(as_bob, "one more reply", parent_id=tops[0])
    page = json.loads(check_page())
    with app.app_context():
        assert len(page_cache.fragments()) == kept + 2  # the new reply, and its parent's new reply_count
    assert _find(page, tops[0])["reply_count"] == 4


# -- two workers ---------------------------------------------------------------------------------

@pytest.fixture
def workers(app, config, make_user, alice, bob, mod, admin, article):
    """Two more app processes' worth of state on the same database: each its own page cache."""
    first, second = create_app(config), create_app(config)
    yield first, second
    for worker in (first, second):
        with worker.app_context():
            db.engine.dispose()


def _reads(worker, readers):
    """The thread as each reader sees it on ``worker`` (None: anonymous)."""
    pages = {}
    for name, user in readers.items():
        client = ApiClient(worker.test_client(), user) if user is not None else worker.test_client()
        pages[name] = _thread(client)
    return pages


@pytest.mark.parametrize("change", ["moderate", "vote", "edit", "delete", "ban_purge", "delete_account",
                                    "rerender", "pin", "rename"])
def test_every_change_is_seen_at_once_on_the_other_worker(app, workers, runner, alice, bob, mod, admin, change):
    first, second = workers
    readers = {"anonymous": None, "alice": alice, "bob": bob, "mod": mod}
    on_first = {name: ApiClient(first.test_client(), user) for name, user in readers.items() if user}
    top = new_comment(on_first["alice"], "alice top")["id"]
    bobs = new_comment(on_first["bob"], "bob replies", parent_id=top)["id"]
    waiting = new_comment(on_first["bob"], "bob waits")["id"]
    set_status(app, waiting, "pending")
    before = _reads(second, readers)  # cached on the second worker
    _reads(first, readers)  # and on the first

    if change == "moderate":
        assert on_first["mod"].post(f"/api/v1/moderation/comments/{bobs}", {"action": "reject"}).status_code == 200
    elif change == "vote":
        assert on_first["alice"].put(f"/api/v1/comments/{bobs}/vote", {"value": 1}).status_code == 200
    elif change == "edit":
        assert on_first["bob"].patch(f"/api/v1/comments/{bobs}", {"body": "bob **edited**"}).status_code == 200
    elif change == "delete":
        assert on_first["bob"].delete(f"/api/v1/comments/{bobs}").status_code == 204
    elif change == "ban_purge":
        response = on_first["mod"].post(f"/api/v1/moderation/users/{bob.id}/ban", {"reason": "spam", "purge": True})
        assert response.status_code == 200
    elif change == "delete_account":
        assert on_first["bob"].delete("/api/v1/me").status_code == 204
    elif change == "rerender":
        with app.app_context():
            db.session.execute(db.update(Comment).where(Comment.id == bobs).values(body="*rerendered*"))
            db.session.commit()
        assert runner.invoke(args=["rerender"]).exit_code == 0
    elif change == "pin":
        assert on_first["mod"].post(f"/api/v1/moderation/comments/{bobs}", {"action": "pin"}).status_code == 200
    elif change == "rename":
        assert on_first["bob"].patch("/api/v1/me", {"display_name": "Robert"}).status_code == 200

    readers.pop("bob") if change == "delete_account" else None
    after = _reads(second, readers)
    assert after == _reads(first, readers)  # both workers agree
    anonymous, alices, mods = after["anonymous"], after["alice"], after["mod"]
    reply = _find(anonymous, bobs)
    if change in ("moderate", "delete", "delete_account"):
        assert reply is None and _find(anonymous, top)["reply_count"] == 0
        assert _find(alices, bobs) is None
        if change == "moderate":
            assert _find(mods, bobs)["status"] == "rejected"
    elif change == "vote":
        assert reply["score"] == 1 and _find(alices, bobs)["my_vote"] == 1 and _find(after["bob"], bobs)["my_vote"] == 0
    elif change == "edit":
        assert "<strong>edited</strong>" in reply["body_html"] and reply["edited_at"]
        assert _find(after["bob"], bobs)["body"] == "bob **edited**"
    elif change == "ban_purge":
        assert _find(after["bob"], waiting) is None and _find(mods, waiting)["status"] == "rejected"
    elif change == "rerender":
        assert reply["body_html"] == "<p><em>rerendered</em></p>"
    elif change == "pin":
        assert reply["pinned"] is True
    elif change == "rename":
        assert reply["author"]["display_name"] == "Robert"
    assert after != before
