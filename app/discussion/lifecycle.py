"""A comment's status changes, with the article's approved-comment count changed in the same transaction.

Every write that changes what a thread shows calls ``thread_changed``: it bumps the article's
``version``, which keys the cached pages (``page_cache``).

Every change of ``Comment.status`` goes through ``change_status`` so that
``Article.comment_count`` stays exact: it is moved in SQL, never read and
written back, so concurrent requests cannot lose an update. It is also where a
deleted comment loses its text (body and body_html become empty), whoever deletes it, and where
the change is recorded as an event (``notifications.events``) for webhooks and notifications.
"""
from sqlalchemy import bindparam, select, update

from ..database import run
from ..extensions import db
from ..models import Article, Comment, Status
from ..notifications import events
from ..timeutil import utcnow
from . import shown

# Run as Core, unseen by the session: thread_changed expires the two columns on a loaded Article
# instead (cheaper than the ORM's "evaluate" pass over the identity map).
_THREAD_CHANGED = (update(Article).where(Article.id == bindparam("article_id"))
                   .values(version=Article.version + 1, comment_count=Article.comment_count + bindparam("comments")))


def thread_changed(article_id: int, comments: int = 0) -> None:
    """Record that what the article's thread shows changed, so its cached pages are no longer served
    (in every process), and add ``comments`` to its approved count in the same statement."""
    run(_THREAD_CHANGED, {"article_id": article_id, "comments": comments})
    forget_counts(article_id)


def forget_counts(article_id: int) -> None:
    """After an UPDATE of the article's version and count the session did not see: a loaded Article
    reads them anew."""
    loaded = db.session.identity_map.get(db.session.identity_key(Article, article_id))
    if loaded is not None:
        db.session.expire(loaded, ["version", "comment_count"])


def author_shown_differently(user_id: int) -> None:
    """Every thread with a comment by ``user_id`` shows them anew (a new name, a staff badge won or lost)."""
    for article_id in sorted(db.session.scalars(
            select(Comment.article_id).where(Comment.author_id == user_id).distinct())):
        thread_changed(article_id)


def change_status(comment: Comment, new_status: Status | str) -> str:
    """Move ``comment`` to ``new_status``; returns the old status."""
    old = comment.status
    new_status = Status(new_status)
    if old == new_status:
        return old
    comment.status = new_status
    comment.decided_at = utcnow()
    if new_status == Status.DELETED:
        # Deleted words are gone for everyone, moderators included (a reply's parent excerpt, exports).
        comment.body = comment.body_html = ""
    was_counted = old == Status.APPROVED
    is_counted = new_status == Status.APPROVED
    # Comment rows first, then the article's: the order a vote takes its locks in (PostgreSQL).
    db.session.flush()
    shown.status_changed(comment, old, new_status)
    thread_changed(comment.article_id, comments=int(is_counted) - int(was_counted))
    events.record_status_change(comment.id, comment.author_id, new_status)
    db.session.flush()
    return old
