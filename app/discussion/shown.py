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
Bulk writers (imports, the migration) recount whole articles with ``recount``. ``layout`` reads the
part of the tree a public page shows, and nothing else.
"""
from sqlalchemy import (
    bindparam,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import aliased

from ..database import list_param, one_of, run
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


LAYOUT_COLUMNS = ("id", "parent_id", "created_at", "shown_replies")


def _layout_statement(lateral: bool, carried: tuple[str, ...] = ()):
    """From the tops (``top_ids``), each step takes the first ``replies`` publicly shown replies of every
    comment reached (``ix_comments_children``): its cost follows the page, not the subtree. Its columns:
    ``LAYOUT_COLUMNS``, then the ``carried`` columns of each comment reached (read from the rows the
    steps read anyway: joined afterwards, PostgreSQL would guess thousands of rows reached and hash the
    whole table, 28 ms against 0.5).

    PostgreSQL gets the step as a LATERAL join, which it runs once per comment reached; written as
    ``id IN (correlated subquery)`` it would test every comment of the table against the subquery (5 s
    for a page of a 1,000-comment thread among 20,000). SQLite has no LATERAL, and runs the IN form
    through the index."""
    table = Comment.__table__
    child = table.alias("child")
    names = (*LAYOUT_COLUMNS, *carried)
    # The tops as one parameter, so that the SQL is the same for every page and is compiled once.
    tops = one_of(table.c.id, "top_ids", "postgresql" if lateral else "sqlite")
    reached = select(*(table.c[name] for name in names)).where(tops).cte("reached", recursive=True)
    shown_children = (child.c.parent_id == reached.c.id,
                      or_(child.c.status == Status.APPROVED, child.c.shown_replies > 0))
    first = (child.c.created_at, child.c.id)
    if lateral:
        step = (select(*(child.c[name] for name in names))
                .where(*shown_children).order_by(*first).limit(bindparam("replies")).lateral("step"))
        reached = reached.union_all(select(*step.c).select_from(reached.join(step, true())))
    else:
        first_replies = select(child.c.id).where(*shown_children).order_by(*first).limit(bindparam("replies"))
        reached = reached.union_all(select(*(table.c[name] for name in names)).select_from(
            reached.join(table, table.c.id.in_(first_replies))))
    return select(reached)


def layout_order(rows) -> tuple:
    """The order ``layout`` reads its rows in: replies as they are shown, oldest first."""
    return rows.c.created_at, rows.c.id


def layout_statements(carried: tuple[str, ...] = ()) -> dict:
    """``layout``'s query per dialect, carrying more columns of each comment (``_layout_statement``);
    a caller wraps each in a query of its own whose first columns stay ``LAYOUT_COLUMNS`` and whose rows
    are ordered by ``layout_order`` (an order inside a subquery would not be kept)."""
    return {"postgresql": _layout_statement(True, carried), "sqlite": _layout_statement(False, carried)}


def layout(top_ids: list[int], replies: int, statements: dict) -> tuple[dict, list]:
    """``tree.select`` for the public, from the rows it shows only: for each of ``top_ids`` and the
    replies nested under them, (ids of the first ``replies`` shown replies, reply_count, more_replies);
    and the rows read. One recursive query, built once: ``statements`` per dialect, from
    ``layout_statements``, reading the rows in (created_at, id) order."""
    if not top_ids:
        return {}, []
    dialect = db.engine.dialect.name
    # On a connection of its own (autocommit on PostgreSQL: no BEGIN and ROLLBACK around it).
    found = run(statements[dialect], {"top_ids": list_param(top_ids, dialect), "replies": replies},
                own_connection=True)
    return _arrange(top_ids, found), found


def _arrange(top_ids: list[int], found: list) -> dict[int, tuple[list[int], int, int]]:
    # Rows (LAYOUT_COLUMNS first: id, parent_id, created_at, shown_replies) in (created_at, id) order, so
    # each comment's replies are listed in the order they are shown.
    tops = set(top_ids)
    nested: dict[int, list[int]] = {}
    for row in found:
        if row[0] not in tops:
            nested.setdefault(row[1], []).append(row[0])
    result = {}
    for row in found:
        children = nested.get(row[0], [])
        result[row[0]] = (children, row[3], row[3] - len(children))
    return result
