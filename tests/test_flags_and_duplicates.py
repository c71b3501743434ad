"""Trust boundaries: flags cannot take down staff notices nor be cast by fresh accounts, the duplicate
check sees the visible text at its place in the thread, and a deleted comment's text is gone."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from app.discussion.sanitize import text_key
from app.extensions import db
from app.models import Article, Comment, Flag
from app.timeutil import UTCDateTime, utcnow

from .factories import new_comment, post_comment

Q = "/api/v1/moderation/queue"


def flag(api, comment_id, reason="abuse"):
    response = api.post(f"/api/v1/comments/{comment_id}/flags", {"reason": reason})
    assert response.status_code == 201, response.get_json()


def configure(login, admin, **settings):
    assert login(admin).put("/api/v1/moderation/settings", settings).status_code == 200


def stored(app, comment_id):
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        flags = db.session.scalar(select(sa.func.count(Flag.id)).where(Flag.comment_id == comment_id))
        return comment.status, comment.open_flags, flags


@pytest.fixture
def seasoned(login, make_user):
    """``seasoned(n)`` -> n logged-in readers whose accounts are two days old."""
    counter = iter(range(1, 1000))

    def seasoned(n, age=timedelta(days=2)):
        return [login(make_user(f"old{next(counter)}", created_at=utcnow() - age)) for _ in range(n)]

    return seasoned


@pytest.fixture
def fresh(login, make_user):
    """``fresh(n)`` -> n logged-in readers registered just now."""
    counter = iter(range(1, 1000))
    return lambda n: [login(make_user(f"new{next(counter)}")) for _ in range(n)]


# -- flags --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_flags_never_send_a_staff_comment_back_to_pending(app, login, make_user, mod, seasoned,
                                                           article, role):
    staff = login(make_user(f"staff{role}", role=role))
    notice = new_comment(staff, "Please keep the discussion civil.")["id"]
    assert staff.post(f"/api/v1/moderation/comments/{notice}", {"action": "pin"}).status_code == 200
    for reader in seasoned(4):
        flag(reader, notice)
    assert stored(app, notice) == ("approved", 4, 4)
    thread = login().get("/api/v1/articles/a1/comments").get_json()["comments"]
    assert [(c["id"], c["pinned"]) for c in thread] == [(notice, True)]
    [item] = login(mod).get(Q + "?queue=flagged").get_json()["comments"]
    assert item["id"] == notice and item["flag_count"] == 4


def test_flags_from_new_accounts_are_kept_but_do_not_hold(app, login, alice, mod, fresh, article):
    comment = new_comment(login(alice), "an unpopular opinion")["id"]
    for reader in fresh(5):
        flag(reader, comment)
    assert stored(app, comment) == ("approved", 5, 5)
    [item] = login(mod).get(Q + "?queue=flagged").get_json()["comments"]
    assert item["id"] == comment and item["flag_count"] == 5
    assert item["reasons"] == ["flagged by 5 readers"]


def test_only_flags_from_accounts_with_history_reach_the_threshold(app, login, alice, fresh, seasoned,
                                                                    article):
    comment = new_comment(login(alice), "an unpopular opinion")["id"]
    for reader in seasoned(2) + fresh(2):
        flag(reader, comment)
    assert stored(app, comment) == ("approved", 4, 4)
    [third] = seasoned(1)
    flag(third, comment)   # the third account with history: back to pending
    assert stored(app, comment)[0] == "pending"


def test_an_account_younger_than_flag_history_hours_does_not_count(app, login, alice, seasoned,
                                                                    article):
    comment = new_comment(login(alice), "an unpopular opinion")["id"]
    for reader in seasoned(3, age=timedelta(hours=23)):
        flag(reader, comment)
    assert stored(app, comment)[0] == "approved"
    [older] = seasoned(1, age=timedelta(hours=25))
    assert app.config["FLAG_HISTORY_HOURS"] == 24 and app.config["FLAGS_NEED_HISTORY"] is True
    flag(older, comment)
    assert stored(app, comment)[0] == "approved"   # one counted flagger of three


def test_flag_history_hours_is_a_setting(app, login, alice, seasoned, article):
    app.config["FLAG_HISTORY_HOURS"] = 1
    comment = new_comment(login(alice), "an unpopular opinion")["id"]
    for reader in seasoned(3, age=timedelta(hours=2)):
        flag(reader, comment)
    assert stored(app, comment)[0] == "pending"


def test_without_flags_need_history_every_flag_counts(app, login, alice, fresh, article):
    app.config["FLAGS_NEED_HISTORY"] = False
    comment = new_comment(login(alice), "an unpopular opinion")["id"]
    for reader in fresh(3):
        flag(reader, comment)
    assert stored(app, comment)[0] == "pending"


# -- the duplicate check ------------------------------------------------------------------------

@pytest.mark.parametrize("first, again", [
    ("hello", "hello&#8203;"),           # a zero-width space, as an entity
    ("hello", "hel\u200blo"),            # ... and as a character
    ("hel&lo", "hel&amp;lo"),            # an entity for a character
    ("Hello  world", "**hello** world"),  # markup, case, spacing
    ("hello", "\uff48\uff45\uff4c\uff4c\uff4f"),  # full-width letters (NFKC)
    ("caf\u00e9", "cafe\u0301"),         # composed and decomposed accents
])
def test_a_disguised_repeat_is_a_duplicate(app, login, alice, article, first, again):
    api = login(alice)
    new_comment(api, first)
    response = post_comment(api, again)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "conflict"


def test_the_same_text_under_different_parents_is_not_a_duplicate(app, login, alice, bob, article,
                                                                   make_article):
    make_article("a2")
    api, other = login(alice), login(bob)
    first, second = new_comment(other, "first question")["id"], new_comment(other, "second question")["id"]
    new_comment(api, "I agree", parent_id=first)
    new_comment(api, "I agree", parent_id=second)
    new_comment(api, "I agree")   # top level is a place of its own
    assert post_comment(api, "I agree", parent_id=first).status_code == 409
    assert post_comment(api, "I agree").status_code == 409
    assert post_comment(api, "I agree", key="a2").status_code == 201
    # The refused reply counted for nothing: its parent's count (raised before the insert) and the
    # article's are as they were.
    with app.app_context():
        assert db.session.get(Comment, first).shown_replies == 1
        assert db.session.scalar(select(Article.comment_count).where(Article.key == "a1")) == 5


def test_the_text_key_is_stored_at_insert_and_follows_edits(app, login, alice, article):
    api = login(alice)
    comment = new_comment(api, "hello *world*")["id"]
    with app.app_context():
        assert db.session.get(Comment, comment).text_key == text_key("<p>hello world</p>")
    assert api.patch(f"/api/v1/comments/{comment}", {"body": "goodbye"}).status_code == 200
    with app.app_context():
        assert db.session.get(Comment, comment).text_key == text_key("<p>goodbye</p>")
    assert post_comment(api, "Goodbye").status_code == 409
    assert post_comment(api, "hello world").status_code == 201


def test_the_window_is_one_minute(app, login, alice, article):
    api = login(alice)
    comment = new_comment(api, "hello")["id"]
    with app.app_context():
        db.session.get(Comment, comment).created_at -= timedelta(seconds=61)
        db.session.commit()
    assert post_comment(api, "hello").status_code == 201


def test_the_migration_keys_existing_comments(app, alice, article):
    with app.app_context():
        downgrade(revision="a11e04ident0")
        with db.engine.begin() as connection:
            now = utcnow()
            for html in ["<p>hel&amp;lo</p>", "<p>Hello\u200b <em>World</em></p>\n"]:
                connection.execute(sa.text(
                    "INSERT INTO comments (article_id, author_id, depth, status, body, body_html, "
                    "created_at, decided_at, pinned, score, upvotes, downvotes, open_flags) VALUES "
                    "(:article, :author, 0, 'approved', 'source', :html, :now, :now, false, 0, 0, 0, 0)"
                ).bindparams(sa.bindparam("now", type_=UTCDateTime())),
                    {"article": article.id, "author": alice.id, "html": html, "now": now})
        upgrade()
        keys = db.session.execute(select(Comment.body_html, Comment.text_key).order_by(Comment.id)).all()
        db.engine.dispose()
    assert [key for _html, key in keys] == [text_key("hel&lo"), text_key("hello world")]
    assert all(key == text_key(html) for html, key in keys)


# -- deleted comments lose their text -----------------------------------------------------------

SECRET = "my secret phone number is 555-0199"


def _assert_text_gone(app, comment_id):
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert (comment.status, comment.body, comment.body_html) == ("deleted", "", "")


def _moderator_sees_no_secret(login, mod, *comment_ids):
    moderator = login(mod)
    for queue in ("pending", "flagged", "spam", "rejected", "approved"):
        response = moderator.get(f"{Q}?queue={queue}&limit=100")
        assert response.status_code == 200
        assert "555-0199" not in json.dumps(response.get_json())
    for comment_id in comment_ids:
        response = moderator.get(f"/api/v1/comments/{comment_id}")
        assert response.status_code in (200, 404)
        assert "555-0199" not in json.dumps(response.get_json())


def _reply_waiting_in_the_queue(login, admin, parent_author, replier):
    parent = new_comment(parent_author, SECRET)["id"]
    new_comment(parent_author, "something harmless")
    configure(login, admin, premoderation="all")
    reply = new_comment(replier, "what did you say?", parent_id=parent)["id"]
    return parent, reply


def test_an_author_deleting_a_comment_clears_its_text(app, login, admin, mod, alice, bob, article):
    author = login(bob)
    parent, reply = _reply_waiting_in_the_queue(login, admin, author, login(alice))
    [item] = login(mod).get(Q + "?queue=pending").get_json()["comments"]
    assert item["parent_excerpt"] == SECRET
    assert author.delete(f"/api/v1/comments/{parent}").status_code == 204
    _assert_text_gone(app, parent)
    [item] = login(mod).get(Q + "?queue=pending").get_json()["comments"]
    assert item["id"] == reply and not item["parent_excerpt"]
    _moderator_sees_no_secret(login, mod, parent, reply)
    export = author.get("/api/v1/me/export")
    assert export.status_code == 200 and "555-0199" not in export.get_data(as_text=True)
    assert len(export.get_json()["comments"]) == 2
    thread = login().get("/api/v1/articles/a1/comments")
    assert thread.status_code == 200 and "555-0199" not in thread.get_data(as_text=True)


def test_a_moderator_deleting_a_comment_clears_its_text(app, login, admin, mod, alice, bob, article):
    parent, reply = _reply_waiting_in_the_queue(login, admin, login(bob), login(alice))
    assert login(mod).delete(f"/api/v1/comments/{parent}").status_code == 204
    _assert_text_gone(app, parent)
    _moderator_sees_no_secret(login, mod, parent, reply)


def test_deleting_an_account_clears_the_text_of_its_comments(app, login, admin, mod, alice, bob,
                                                             article):
    author = login(bob)
    parent, reply = _reply_waiting_in_the_queue(login, admin, author, login(alice))
    assert author.delete("/api/v1/me").status_code == 204
    _assert_text_gone(app, parent)
    _moderator_sees_no_secret(login, mod, parent, reply)
    thread = login(mod).get("/api/v1/articles/a1/comments")
    assert thread.status_code == 200 and "555-0199" not in thread.get_data(as_text=True)


# -- Duplicates (bad-requests.md L3) -------------------------------------------------------------------------

def test_l3_the_same_body_five_times_is_stored_once(world):
    """bad-requests.md L3."""
    statuses = [post_comment(world.as_bob, "buy cheap watches").status_code for _ in range(5)]
    assert statuses == [201, 409, 409, 409, 409]
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).where(Comment.body == "buy cheap watches")) == 1

