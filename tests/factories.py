"""Helpers several test files share: posting a comment through the API, the JSON error oracle, a snapshot
of everything an attack could change, and the ``World`` the ``world`` fixture (conftest.py) builds.

The attack tests come from /work/shared/corpus/: auth-attacks.md (cases numbered like 1.3) and
bad-requests.md (cases numbered like W5); each such test names its case in its name and docstring.
"""
from contextlib import contextmanager
from functools import cached_property
from types import SimpleNamespace

from sqlalchemy import event, func, select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app import database
from app.discussion.lifecycle import change_status
from app.extensions import db
from app.models import (
    ApiToken,
    Article,
    Comment,
    Flag,
    ModerationEvent,
    ModerationSettings,
    User,
    Vote,
)

EVIL = "https://evil.example"

# auth-attacks.md 12 and bad-requests.md 9: values of ?next= that must never lead off the site.
REDIRECTS = [
    "https://evil.example", "//evil.example", "///evil.example", "////evil.example", "/\\evil.example",
    "\\/evil.example", "/\\/evil.example", "\\\\evil.example", "https:evil.example", "http:/evil.example",
    "/%2Fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%09/evil.example", "/\t/evil.example",
    " //evil.example", "https://example.com@evil.example", "https://evil.example#@example.com",
    "https://evil.example?.example.com", "https://example.com.evil.example", "https://evilexample.com",
    "http://127.0.0.1.nip.io", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java%0ascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "/\r\nSet-Cookie: a=b", "%0d%0aLocation:%20https://evil.example",
]


# -- comments ------------------------------------------------------------------------

def post_comment(api, body, key="a1", **fields):
    """POST a comment as ``api`` (an ApiClient); the response, whatever it is."""
    return api.post(f"/api/v1/articles/{key}/comments", {"body": body, **fields})


def new_comment(api, body, key="a1", **fields) -> dict:
    """POST a comment that must be accepted (201); its JSON. The ``make_comment`` fixture wraps this."""
    response = post_comment(api, body, key, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["comment"]


def set_status(app, comment_id: int, status: str) -> None:
    with app.app_context():
        change_status(db.session.get(Comment, comment_id), status)
        db.session.commit()


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


# -- the oracle ------------------------------------------------------------------------

def has_route(app, path: str, method: str = "GET") -> bool:
    try:
        app.url_map.bind("localhost").match(path.split("?")[0], method=method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


def assert_error(response, *statuses, code=None):
    """The contract's JSON error with one of ``statuses``, naming no internals; ``code`` may also come
    last among the positional arguments: ``assert_error(response, 404, "not_found")``."""
    if statuses and isinstance(statuses[-1], str):
        *statuses, code = statuses
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
                             Comment.status, Comment.edited_at, Comment.score, Comment.pinned, Comment.created_at,
                             Comment.open_flags),
            "users": rows(User.id, User.username, User.email, User.role, User.banned_until, User.ban_reason,
                          User.display_name),
            "articles": rows(Article.key, Article.title, Article.url, Article.status, Article.moderation,
                             Article.comment_count),
            "settings": rows(ModerationSettings.id, ModerationSettings.premoderation, ModerationSettings.flag_threshold),
            "votes": rows(Vote.comment_id, Vote.user_id, Vote.value),
            "flags": rows(Flag.comment_id, Flag.user_id, Flag.reason),
            "events": rows(ModerationEvent.id),
            "tokens": rows(ApiToken.id),
        }


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


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


def seed_thread(app, key: str, size: int, first_id: int, url: str | None = None) -> None:
    """Insert ``size`` approved comments on a new article in bulk (a third top-level, the rest replies at
    varied depths), with ids from ``first_id``, by the first user."""
    from datetime import timedelta

    from sqlalchemy import insert

    from app.discussion import shown
    from app.models import Article, Comment, User
    from app.timeutil import utcnow
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
        article = Article(key=key, title=key, url=url or f"https://news.example/{key}", comment_count=size)
        db.session.add(article)
        db.session.flush()
        rows, now = [], utcnow()
        for i in range(size):
            parent = rows[(i * 7) % len(rows)] if rows and i % 3 else None
            rows.append({
                "id": first_id + i, "article_id": article.id, "author_id": user_id,
                "body": f"c{i}", "body_html": f"<p>c{i}</p>", "status": "approved",
                "parent_id": parent["id"] if parent else None,
                "root_id": (parent["root_id"] or parent["id"]) if parent else None,
                "depth": parent["depth"] + 1 if parent else 0,
                "created_at": now + timedelta(microseconds=i), "decided_at": now,
            })
        db.session.execute(insert(Comment), rows)
        shown.recount([article.id])  # as every bulk writer does
        db.session.commit()


@contextmanager
def recorded_statements(app):
    """``with recorded_statements(app) as statements:``: the SQL the app runs inside the block (BEGIN and
    COMMIT not included), on the session's connection or on one of its own (``database.run``)."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def run_raw(engine, sql, *args):
        statements.append(sql)
        return run_raw_unrecorded(engine, sql, *args)
    run_raw_unrecorded = database._run_raw
    event.listen(engine, "before_cursor_execute", record)
    database._run_raw = run_raw
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        database._run_raw = run_raw_unrecorded
