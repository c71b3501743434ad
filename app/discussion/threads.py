"""Reading threads: a page of top-level comments with replies nested, a comment's replies, one comment.

Every read costs a constant number of queries whatever the thread's size. The page everyone shares
(built for the anonymous reader, ``shared_pages``): the page of top-level comments, then one recursive
query for the replies it shows and their rows (``_public_layout``, through ``Comment.shown_replies``).
A page of a viewer's own (moderators; a rare pending reply, see ``shared_pages``):
1. the page of top-level comments (with authors), filtered by visibility;
2. a light "skeleton" of everything under them (``WHERE root_id IN ...``:
   ids, parents, statuses; no bodies), from which ``tree.py`` decides what
   is shown, what is a tombstone and which replies are nested;
3. the full rows (with authors) of the nested replies only;
4. the viewer's own votes on the comments being returned.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, exists, null, or_, select, true
from sqlalchemy.orm import aliased

from .. import pagination
from ..database import run
from ..errors import not_found
from ..extensions import db
from ..models import Article, Comment, Status, User, Vote, is_staff_role
from ..timeutil import isoformat
from . import shown, tree
from .serialize import author_json, review_json
from .thread_cursors import (
    cursor_values,
    decode_replies_cursor,
    decode_thread_cursor,
    order_of,
)
from .visibility import is_visible, may_see_source, visible_clause

SORTS = ("oldest", "newest", "top")
MAX_LIMIT = 200
MAX_REPLIES = 500

_SKELETON = (Comment.id, Comment.parent_id, Comment.depth, Comment.created_at,
             Comment.status, Comment.author_id)
# What a comment shows (the fields of CommentView but its author): read as plain rows, not ORM objects
# (a page may hold hundreds).
COMMENT_COLUMNS = (Comment.id, Comment.parent_id, Comment.depth, Comment.status, Comment.author_id,
                   Comment.body, Comment.body_html, Comment.pinned, Comment.created_at, Comment.edited_at,
                   Comment.score, Comment.upvotes, Comment.downvotes, Comment.spam_score, Comment.held_because)
_DISPLAY = (*COMMENT_COLUMNS, User.username.label("author_username"),
            User.display_name.label("author_display_name"), User.role.label("author_role"))


@dataclass(slots=True)
class AuthorView:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def is_moderator(self) -> bool:
        return is_staff_role(self.role)


@dataclass(slots=True)
class CommentView:
    """The read-only shape of a comment that ``comment_json`` serializes (as it does a Comment)."""

    id: int
    parent_id: int | None
    depth: int
    status: str
    author_id: int | None
    body: str
    body_html: str
    pinned: bool
    created_at: datetime
    edited_at: datetime | None
    score: int
    upvotes: int
    downvotes: int
    spam_score: float | None
    held_because: str | None
    author: AuthorView | None


def _display_query():
    return select(*_DISPLAY).outerjoin(User, User.id == Comment.author_id)


# What the public never sees of a comment: the Markdown source, the spam filter's score and reason.
_NOT_PUBLIC = {"body", "spam_score", "held_because"}


def _public_layout_statement(dialect: str, layout):
    """``layout`` (``shown.layout_statements``'s query for ``dialect``, carrying the comment's columns) with each
    author's name and role: one query for the part of the tree a public page shows and what it shows of
    it. Its columns: the layout's four, then ``_DISPLAY``'s (NULL for ``_NOT_PUBLIC``)."""
    reached = layout.subquery("reached_rows")
    comment = [null().label(f"c_{column.key}") if column.key in _NOT_PUBLIC
               else reached.c[column.key].label(f"c_{column.key}") for column in COMMENT_COLUMNS]
    author = select(User.username, User.display_name, User.role).where(User.id == reached.c.author_id)
    if dialect == "postgresql":
        # Looked up by key for each row: as a join, PostgreSQL (guessing thousands of rows reached) would
        # hash the whole users table; LIMIT 1 keeps the planner from turning the LATERAL into that join.
        author = author.limit(1).lateral("author")
        found = reached.outerjoin(author, true())
    else:
        author = User.__table__
        found = reached.outerjoin(author, author.c.id == reached.c.author_id)
    return (select(*reached.c[:len(shown.LAYOUT_COLUMNS)], *comment, author.c.username, author.c.display_name,
                   author.c.role).select_from(found).order_by(*shown.layout_order(reached)))


_PUBLIC_LAYOUT = {dialect: _public_layout_statement(dialect, layout) for dialect, layout in shown.layout_statements(
    tuple(column.key for column in COMMENT_COLUMNS if column.key not in _NOT_PUBLIC
          and column.key not in shown.LAYOUT_COLUMNS)).items()}
_LAYOUT_WIDTH = len(shown.LAYOUT_COLUMNS)


def _public_layout(top_ids: list[int], replies: int) -> tuple[dict, dict[int, CommentView]]:
    """``shown.layout`` of ``top_ids`` and the rows of every comment in it, in one query."""
    layout, found = shown.layout(top_ids, replies, _PUBLIC_LAYOUT)
    return layout, {row[0]: _view(row[_LAYOUT_WIDTH:]) for row in found}


def _view(row) -> CommentView:
    *fields, username, display_name, role = row
    author_id = fields[4]
    author = AuthorView(author_id, username, display_name, role) if author_id is not None else None
    return CommentView(*fields, author)


def _rows(query, params=None):
    """Plain rows through the session's connection (no ORM row processing)."""
    return db.session.connection().execute(query, params)


def thread_page(article, viewer: User | None, sort: str = "oldest", limit: int = 20,
                replies: int = 5, after: str | None = None) -> dict:
    """The JSON of ``GET /articles/{key}/comments``; ``article`` is an Article or a row with its
    id, key and comment_count (``articles.head_found``)."""
    order = order_of(sort)
    if viewer is None:
        query = _PUBLIC_TOPS[sort]
    else:
        below = aliased(Comment)
        shown_here = or_(visible_clause(viewer),
                         exists().where(below.root_id == Comment.id, visible_clause(viewer, below)))
        query = (_display_query().where(Comment.article_id == bindparam("article_id"), Comment.parent_id.is_(None),
                                        shown_here)
                 .order_by(*pagination.order_by(order)).limit(bindparam("limit")))
    position = decode_thread_cursor(sort, after)
    params = {"article_id": article.id, "limit": limit + 1}
    if position is not None:
        query = query.where(pagination.keyset_after(order, position))
    if viewer is not None:
        roots = [_view(row) for row in _rows(query, params)]
    elif position is None:  # a first page: the statement built once, on a connection of its own
        roots = [_Top(*row) for row in run(query, params, own_connection=True)]
    else:
        roots = _rows(query, params).all()
    has_more = len(roots) > limit
    roots = roots[:limit]
    comments = _render_forest(roots, viewer, article, replies)
    next_cursor = (pagination.encode(f"thread-{sort}", *cursor_values(sort, roots[-1]))
                   if has_more else None)
    return {"article": article.key, "total": article.comment_count, "comments": comments,
            "next": next_cursor}


class _Top(NamedTuple):
    id: int
    pinned: bool
    score: int
    created_at: datetime


# The public page's tops, per sort, built once: here only what orders them and makes the cursor (their
# rows come with their replies', ``_public_layout``).
_PUBLIC_TOPS = {sort: (select(Comment.id, Comment.pinned, Comment.score, Comment.created_at)
                       .where(Comment.article_id == bindparam("article_id"), Comment.parent_id.is_(None),
                              shown.publicly_shown())
                       .order_by(*pagination.order_by(order_of(sort))).limit(bindparam("limit")))
                for sort in SORTS}


def replies_page(comment_id: int, viewer: User | None, limit: int = 20, replies: int = 5,
                 after: str | None = None) -> dict:
    """The JSON of ``GET /comments/{id}/replies``: shown direct replies, oldest first, each nested."""
    if viewer is None:
        return _public_replies_page(comment_id, limit, replies, after)
    parent, nodes, article = _locate(comment_id, viewer)
    children = tree.shown_children(nodes[parent.id])
    position = decode_replies_cursor(after)
    if position is not None:
        children = [c for c in children if (c.created_at, c.id) > tuple(position)]
    page, has_more = children[:limit], len(children) > limit
    layout = tree.select(page, replies)
    rows = _load_rows(layout.keys())
    votes = _my_votes(viewer, layout.keys())
    result = [_serialize(rows[node.id], layout, rows, votes, viewer, article.key) for node in page]
    next_cursor = pagination.encode("replies", page[-1].created_at, page[-1].id) if has_more else None
    return {"comments": result, "next": next_cursor}


def comment_detail(comment_id: int, viewer: User | None, replies: int = 5,
                   for_author: bool = False) -> dict:
    """The JSON of ``GET /comments/{id}``; 404 when the viewer may not see it.

    ``for_author`` answers the author who just wrote it: they see it with its
    status even when the rules rejected it (the thread then no longer shows it).
    """
    if viewer is None:
        article_key = _public_comment(comment_id)
        layout, rows = _public_layout([comment_id], replies)
        return _serialize(rows[comment_id], layout, rows, {}, None, article_key)
    comment, nodes, article = _locate(comment_id, viewer, for_author)
    layout = tree.select([nodes[comment.id]], replies)
    rows = _load_rows(layout.keys())
    votes = _my_votes(viewer, layout.keys())
    return _serialize(rows[comment.id], layout, rows, votes, viewer, article.key, reveal=for_author)


# The key of a comment's cached pages: every read of a comment or its replies runs it, so it skips the
# ORM and the Session, as ``articles.THREAD_HEAD`` does.
ARTICLE_VERSION_OF = (select(Article.id, Article.version).join(Comment, Comment.article_id == Article.id)
                      .where(Comment.id == bindparam("comment_id")))


def version_found(row) -> tuple[int, int]:
    """(article id, article version) from an ``ARTICLE_VERSION_OF`` row, the key of a comment's cached
    pages; 404 when the comment is unknown (None)."""
    if row is None:
        raise not_found("No such comment.")
    return tuple(row)


def find_visible(comment_id: int, viewer: User | None) -> Comment:
    """The comment ``comment_id`` if ``viewer`` may read it in full (not a tombstone), else 404."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or not is_visible(comment.status, comment.author_id, viewer):
        raise not_found("No such comment.")
    return comment


def _locate(comment_id: int, viewer: User | None, for_author: bool = False):
    """The comment, its whole tree's skeleton (linked) and its article; 404 unless it is shown."""
    comment = db.session.get(Comment, comment_id)
    if for_author and (viewer is None or comment is None or comment.author_id != viewer.id):
        for_author = False
    if comment is None:
        raise not_found("No such comment.")
    root_id = comment.root_id or comment.id
    rows = db.session.execute(
        select(*_SKELETON).where(or_(Comment.id == root_id, Comment.root_id == root_id))
    ).all()
    nodes = tree.link([_node(row, viewer) for row in rows])
    if not (nodes[comment.id].shown or for_author):
        raise not_found("No such comment.")
    article = db.session.get(Article, comment.article_id)
    return comment, nodes, article


def _node(row, viewer) -> tree.Node:
    comment_id, parent_id, depth, created_at, status, author_id = row[:6]
    return tree.Node(comment_id, parent_id, depth, created_at, is_visible(status, author_id, viewer))


def _render_forest(roots: list, viewer, article: Article, replies: int) -> list[dict]:
    """The tops ``roots`` (CommentViews; for the public, rows with their ids) with their replies nested."""
    if not roots:
        return []
    root_ids = [root.id for root in roots]
    if viewer is None:
        layout, rows = _public_layout(root_ids, replies)
        return [_serialize(rows[root_id], layout, rows, {}, None, article.key) for root_id in root_ids]
    skeleton = _rows(select(*_SKELETON).where(Comment.root_id.in_(root_ids))).all()
    nodes = tree.link([_node((r.id, r.parent_id, r.depth, r.created_at, r.status, r.author_id), viewer)
                       for r in roots] + [_node(row, viewer) for row in skeleton])
    layout = tree.select([nodes[i] for i in root_ids], replies)
    rows = {root.id: root for root in roots}
    rows.update(_load_rows(i for i in layout if i not in rows))
    votes = _my_votes(viewer, layout.keys())
    return [_serialize(root, layout, rows, votes, viewer, article.key) for root in roots]


# -- what the public sees: read through Comment.shown_replies (shown.py), never a whole subtree --

_PUBLIC_COMMENT = (select(Comment.id, Article.key).join(Article, Article.id == Comment.article_id)
                   .where(Comment.id == bindparam("comment_id"), shown.publicly_shown()))


def _public_comment(comment_id: int) -> str:
    """The article key of ``comment_id`` when the public sees it (in full or as a tombstone), else 404."""
    row = _rows(_PUBLIC_COMMENT.params(comment_id=comment_id)).first()
    if row is None:
        raise not_found("No such comment.")
    return row.key


def _public_replies_page(comment_id: int, limit: int, replies: int, after: str | None) -> dict:
    article_key = _public_comment(comment_id)
    order = [(Comment.created_at, False), (Comment.id, False)]
    query = (select(Comment.id, Comment.created_at)
             .where(Comment.parent_id == comment_id, shown.publicly_shown())
             .order_by(*pagination.order_by(order)).limit(limit + 1))
    position = decode_replies_cursor(after)
    if position is not None:
        query = query.where(pagination.keyset_after(order, position))
    children = _rows(query).all()
    page, has_more = children[:limit], len(children) > limit
    layout, rows = _public_layout([child.id for child in page], replies)
    result = [_serialize(rows[child.id], layout, rows, {}, None, article_key) for child in page]
    next_cursor = pagination.encode("replies", page[-1].created_at, page[-1].id) if has_more else None
    return {"comments": result, "next": next_cursor}


def _load_rows(ids) -> dict[int, CommentView]:
    ids = list(ids)
    if not ids:
        return {}
    views = (_view(row) for row in _rows(_display_query().where(Comment.id.in_(ids))))
    return {view.id: view for view in views}


def _my_votes(viewer: User | None, ids) -> dict[int, int]:
    ids = list(ids)
    if viewer is None or not ids:
        return {}
    rows = db.session.execute(
        select(Vote.comment_id, Vote.value).where(Vote.user_id == viewer.id, Vote.comment_id.in_(ids))
    )
    return dict(rows.all())


def _serialize(top: Comment, layout, rows, votes, viewer, article_key: str,
               reveal: bool = False) -> dict:
    """Nest the JSON of ``top`` and the replies chosen in ``layout``, iteratively."""
    result = comment_json(top, viewer, article_key, votes.get(top.id, 0), *layout[top.id][1:],
                          reveal=reveal)
    stack = [(top.id, result)]
    while stack:
        comment_id, data = stack.pop()
        for child_id in layout[comment_id][0]:
            child = rows[child_id]
            child_data = comment_json(child, viewer, article_key, votes.get(child_id, 0),
                                      *layout[child_id][1:])
            data["replies"].append(child_data)
            stack.append((child_id, child_data))
    return result


def comment_json(comment: Comment, viewer: User | None, article_key: str, my_vote: int = 0,
                 reply_count: int = 0, more_replies: int = 0, reveal: bool = False) -> dict:
    """The API's Comment object; a tombstone when ``viewer`` may not read it (unless ``reveal``)."""
    visible = reveal or is_visible(comment.status, comment.author_id, viewer)
    data = {
        "id": comment.id,
        "article": article_key,
        "parent_id": comment.parent_id,
        "depth": comment.depth,
        "author": author_json(comment.author) if visible else None,
        "body_html": comment.body_html if visible else None,
        "status": comment.status if visible else Status.DELETED.value,
        "deleted": not visible,
        "pinned": comment.pinned,
        "created_at": isoformat(comment.created_at),
        "edited_at": isoformat(comment.edited_at) if visible else None,
        "score": comment.score,
        "upvotes": comment.upvotes,
        "downvotes": comment.downvotes,
        "my_vote": my_vote,
        "reply_count": reply_count,
        "replies": [],
        "more_replies": more_replies,
    }
    if visible and may_see_source(comment.author_id, viewer):
        data["body"] = comment.body
    if visible:
        data.update(review_json(comment, viewer))
    return data
