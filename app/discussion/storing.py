"""Storing a new comment: the statements of a post's write, built once (docs/performance.md).

A post writes up to five rows: the comment itself (unless its author posted the same text at the same
place within ``DUPLICATE_WINDOW``), its ``comment.created`` event, the audit row of a rule's decision,
the parent's count of shown replies (a reply the public sees) and the article's version and count.
Every statement costs a round trip to PostgreSQL and its driver's and SQLAlchemy's work, about a
twentieth of a post's CPU each, so on PostgreSQL the comment, its event, its audit row and the
article's counts are one statement (data-modifying ``WITH`` queries). SQLite runs in the process:
there they run one after the other.

The duplicate check must see a concurrent post of the same text (a double click), so those take turns:
on PostgreSQL under a transaction-scoped advisory lock keyed by the author and the text, which posts
of other texts (the same author's included) never wait for; on SQLite under the write lock every
write holds.

Row locks are taken in the order of every other writer (a vote, a moderation decision): the parent
comments' rows first (their counts, before the comment is inserted; a duplicate rolls them back), the
article's last, since every post to the thread waits for it until the commit.
"""
import hashlib
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import (
    Integer,
    bindparam,
    column,
    exists,
    func,
    insert,
    null,
    select,
    table,
    update,
)

from ..database import run
from ..extensions import db
from ..models import Comment, ModerationEvent, Status, User
from ..moderation import audit as moderation_audit
from ..notifications import events
from . import shown
from .lifecycle import thread_changed

DUPLICATE_WINDOW = timedelta(minutes=1)

# The columns a post writes, in the order the statements list them.
COLUMNS = ("article_id", "author_id", "body", "body_html", "parent_id", "root_id", "depth", "status",
           "created_at", "decided_at", "edited_at", "pinned", "score", "upvotes", "downvotes", "open_flags",
           "shown_replies", "text_key", "spam_score", "held_because")

# pg_advisory_xact_lock(space, key): this module's space of keys, apart from any other lock's.
_SAME_TEXT_SPACE = 0x706F7374  # "post"


class Audit(NamedTuple):
    """A rule's decision on the new comment, for the audit log (actor NULL)."""
    action: str
    to_status: str
    reason: str | None


def take_turn_with_same_text(author_id: int, text_key: str) -> None:
    """Wait for any other post of ``text_key`` by ``author_id`` still writing, until this transaction
    ends; posts of other texts do not wait (PostgreSQL; SQLite's write lock already serializes)."""
    if db.engine.dialect.name == "postgresql":
        digest = hashlib.blake2b(f"{author_id}:{text_key}".encode(), digest_size=4).digest()
        run(_TAKE_TURN, {"space": _SAME_TEXT_SPACE, "key": int.from_bytes(digest, "big", signed=True)})


def store(values: dict, audit: Audit | None) -> int | None:
    """Write the comment of ``values`` (``COLUMNS``) with its event, ``audit`` row, its parent's count
    of shown replies and its article's version and count; its id, or None when it is a duplicate (the
    caller then rolls back). Call ``take_turn_with_same_text`` first."""
    approved = values["status"] == Status.APPROVED
    params = {**values, "since": values["created_at"] - DUPLICATE_WINDOW, "comments": int(approved),
              "event_type": events.COMMENT_CREATED}
    if approved and values["parent_id"] is not None:  # a reply the public sees: the parents' rows first
        shown.reply_shown_changed(values["parent_id"], 1)
    if db.engine.dialect.name == "postgresql":
        if audit is not None:
            params.update(audit._asdict())
        return run(_TOGETHER[audit is not None], params).scalar()
    comment_id = run(_INSERT_UNLESS_DUPLICATE, params).scalar()
    if comment_id is None:
        return None
    author_id = values["author_id"]
    events.record(events.COMMENT_CREATED, comment_id=comment_id, user_id=author_id)
    if audit is not None:
        moderation_audit.record_automatic(audit.action, comment_id=comment_id, user_id=author_id,
                                          to_status=audit.to_status, reason=audit.reason)
    thread_changed(values["article_id"], comments=params["comments"])
    return comment_id


# ---------------------------------------------------------------- the statements

_COMMENTS = Comment.__table__
_EVENTS = events.Event.__table__
_AUDIT = ModerationEvent.__table__

_TAKE_TURN = select(func.pg_advisory_xact_lock(bindparam("space", type_=Integer), bindparam("key", type_=Integer)))


# The UPDATE in the same statement as an INSERT names a bare table: given the model's table (with its
# Python-side column defaults), SQLAlchemy 2.1 requires a parameter that no caller can give.
_COUNTS_OF_ARTICLES = table("articles", column("id", Integer), column("version", Integer),
                            column("comment_count", Integer))


def _value(name: str):
    return bindparam(name, type_=_COMMENTS.c[name].type)


def _insert_unless_duplicate():
    """INSERT ... SELECT <the values> WHERE NOT EXISTS (<a comment of the author with the same text
    at the same place since :since>) RETURNING id; ix_comments_author_text finds the other."""
    value = {name: _value(name) for name in COLUMNS}
    same_text = (select(_COMMENTS.c.id).where(
        _COMMENTS.c.author_id == value["author_id"], _COMMENTS.c.text_key == value["text_key"],
        _COMMENTS.c.created_at > bindparam("since", type_=_COMMENTS.c.created_at.type),
        _COMMENTS.c.article_id == value["article_id"],
        _COMMENTS.c.parent_id.is_not_distinct_from(value["parent_id"])))
    row = select(*value.values()).where(~exists(same_text))
    return insert(_COMMENTS).from_select(list(COLUMNS), row).returning(_COMMENTS.c.id)


def _event_of(comment_id):
    return select(bindparam("event_type", type_=_EVENTS.c.type.type), comment_id, _value("author_id"),
                  null(), bindparam("created_at", type_=_EVENTS.c.created_at.type))


def _audit_of(comment_id):
    return select(bindparam("created_at", type_=_AUDIT.c.at.type), null(),
                  bindparam("action", type_=_AUDIT.c.action.type), comment_id, _value("author_id"),
                  select(User.username).where(User.id == _value("author_id")).scalar_subquery(),
                  null(), bindparam("to_status", type_=_AUDIT.c.to_status.type),
                  bindparam("reason", type_=_AUDIT.c.reason.type), null())


_EVENT_COLUMNS = ["type", "comment_id", "user_id", "actor_id", "created_at"]
_AUDIT_COLUMNS = ["at", "actor_id", "action", "comment_id", "user_id", "user_name", "from_status", "to_status",
                  "reason", "previous_body"]

_INSERT_UNLESS_DUPLICATE = _insert_unless_duplicate()


def _together(audit: bool):
    """The PostgreSQL form: WITH new AS (INSERT ... RETURNING id), event AS (INSERT ...), [audit AS
    (INSERT ...)], article AS (UPDATE ...) SELECT new.id. A duplicate inserts no row, so nothing reads
    one: no event, no audit row, no count."""
    new = _insert_unless_duplicate().cte("new_comment")
    written = [insert(_EVENTS).from_select(_EVENT_COLUMNS, _event_of(new.c.id).select_from(new))
               .cte("new_event")]
    if audit:
        written.append(insert(_AUDIT).from_select(_AUDIT_COLUMNS, _audit_of(new.c.id).select_from(new))
                       .cte("new_audit"))
    counts = _COUNTS_OF_ARTICLES
    article = (update(counts).where(counts.c.id == _value("article_id"), exists(select(new.c.id)))
               .values(version=counts.c.version + 1,
                       comment_count=counts.c.comment_count + bindparam("comments", type_=Integer))
               .cte("article"))
    return select(new.c.id).add_cte(*written, article)


_TOGETHER = {audit: _together(audit) for audit in (False, True)}
