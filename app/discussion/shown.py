"""What the public sees of a thread's tree, kept on the rows so a page never reads a whole subtree.

A comment is *publicly shown* when it is approved, or when it has a publicly shown reply (it is then a
tombstone keeping its replies in place; see ``tree.py``). ``Comment.shown_replies`` counts a comment's
publicly shown direct replies: it is the ``reply_count`` every reader but moderators and a pending
comment's author sees, and with it the pages everyone shares (``threads``) read only the comments they
show, whether a top-level comment has 5 replies or 5,000.

The count changes only where a comment's status does (``lifecycle.change_status``) and where one is
stored (``posting``); a change propagates up through tombstones, never further than the first approved
ancestor. Each step is one ``UPDATE ... RETURNING``, which takes the parent's row lock: two replies
approved at once under the same tombstone on PostgreSQL are counted one after the other, exactly.
Bulk writers (imports, the migration) recount whole articles with ``recount``.
"""
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import aliased

from ..database import run
from ..extensions import db
from ..models import Comment, Status

_BUMP = (update(Comment.__table__).where(Comment.__table__.c.id == bindparam("comment_id"))
         .values(shown_replies=Comment.__table__.c.shown_replies + bindparam("delta"))
         .returning(Comment.__table__.c.shown_replies, Comment.__table__.c.status,
                    Comment.__table__.c.parent_id))


def publicly_shown(table=Comment):
    """SQL condition: rows the public sees, in full or as a tombstone with shown replies."""
    return or_(table.status == Status.APPROVED, table.shown_replies > 0)


_CHILD = aliased(Comment, name="child")
# In an UPDATE of comments: the row's publicly shown direct replies, counted from scratch (its replies'
# own counts must be right already: bulk writers go deepest level first).
SHOWN_REPLIES_OF_ROW = (select(func.count()).select_from(_CHILD)
                        .where(_CHILD.parent_id == Comment.__table__.c.id, publicly_shown(_CHILD))
                        .scalar_subquery())


def reply_shown_changed(parent_id: int | None, delta: int) -> None:
    """A reply of ``parent_id`` became publicly shown (``delta`` 1) or stopped being (-1)."""
    while parent_id is not None:
        count, status, grandparent = run(_BUMP, {"comment_id": parent_id, "delta": delta}).one()
        if status == Status.APPROVED or count != (1 if delta > 0 else 0):
            return  # the parent itself stays shown, or stays hidden: nothing above changes
        parent_id = grandparent


def status_changed(comment: Comment, old: str, new: str) -> None:
    """After ``comment``'s status went from ``old`` to ``new`` (flushed): fix the counts above it."""
    if comment.parent_id is None or (old == Status.APPROVED) == (new == Status.APPROVED):
        return
    # Read under the row lock our status UPDATE holds: a reply counted concurrently is seen.
    own = db.session.scalar(select(Comment.shown_replies).where(Comment.id == comment.id))
    if own == 0:
        reply_shown_changed(comment.parent_id, 1 if new == Status.APPROVED else -1)


def recount(article_ids=None) -> None:
    """Recompute ``shown_replies`` of every comment (of ``article_ids``), deepest level first."""
    comments = Comment.__table__
    scope = [] if article_ids is None else [comments.c.article_id.in_(list(article_ids))]
    deepest = db.session.scalar(select(func.max(comments.c.depth)).where(*scope))
    if deepest is None:
        return
    for depth in range(deepest, -1, -1):
        db.session.execute(update(comments).where(comments.c.depth == depth, *scope)
                           .values(shown_replies=SHOWN_REPLIES_OF_ROW))
