"""Pages everyone shares, and the little that differs per reader.

A page of a thread (``GET /articles/{key}/comments``, ``GET /comments/{id}/replies``) is the same for
every reader who is not a moderator, except:
- ``my_vote`` of the comments shown (0 for anyone who did not vote on them);
- ``body`` (the Markdown source) of the reader's own comments;
- the reader's own pending comments, shown in place to them only.

So a page is built once, for the anonymous reader, and kept as a ``SharedPage``: its JSON bytes plus
the position of every ``my_vote`` value and of every place a ``"body"`` may go. A logged-in reader
costs two indexed queries (``reader_marks``: their votes and their own comments in the article) and a
few byte splices. A reader with a pending comment in the article has it placed in a copy of the shared
page (``own_pending``: one more query when it lands on the page), not a page built from scratch.

Positions are found by serializing the page with markers in place of those values: a marker is a
string no reader can produce (it carries a per-process random nonce), and both are found where JSON
puts structure, never inside a string (a quote inside a JSON string is always escaped).
"""
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import aliased

from ..accounts.standing import acts_as_moderator
from ..database import run
from ..errors import ApiError
from ..extensions import db
from ..models import Article, Comment, Status, User
from . import own_pending, page_cache, threads

_NONCE = secrets.token_hex(8)
_VOTE, _BODY = "v", "b"
_MARKERS = re.compile(
    rb',"body":"\\u0000' + _NONCE.encode() + rb'b(\d+)\\u0000"|"\\u0000' + _NONCE.encode() + rb'v(\d+)\\u0000"')


@dataclass(slots=True, frozen=True)
class _Marker:
    kind: str
    comment_id: int

    def json(self) -> str:
        return f"\x00{_NONCE}{self.kind}{self.comment_id}\x00"


@dataclass(slots=True, frozen=True)
class ReaderMarks:
    """What one reader adds to a shared page of one article."""
    votes: dict[int, int]  # comment id -> -1 or 1
    sources: dict[int, str]  # the reader's own comments on the page -> Markdown source
    pending: list  # their pending comments in the article (own_pending.Pending), shown to them in place


class SharedPage:
    """The anonymous JSON of a page, with where each comment's ``my_vote`` and ``body`` go."""

    __slots__ = ("data", "votes", "bodies", "by_author")

    def __init__(self, data: bytes, votes: dict[int, int], bodies: dict[int, int], authors: dict[int, int]):
        self.data = data
        self.votes = votes  # comment id -> offset of the "0" of its my_vote
        self.bodies = bodies  # comment id -> offset where its ,"body":... pair goes
        self.by_author: dict[int, list[int]] = {}  # author id -> their comments shown with their text
        for comment_id, author_id in authors.items():
            self.by_author.setdefault(author_id, []).append(comment_id)

    def __len__(self) -> int:
        # What the page cache counts: the bytes and, roughly, the three indexes.
        return len(self.data) + 120 * len(self.votes)

    def own_comments(self, user_id: int) -> list[int]:
        return self.by_author.get(user_id, [])

    def for_reader(self, marks: ReaderMarks) -> bytes:
        edits = [(self.votes[cid], 1, str(value).encode()) for cid, value in marks.votes.items()
                 if value and cid in self.votes]
        edits += [(self.bodies[cid], 0, b',"body":' + current_app.json.dumps(source).encode())
                  for cid, source in marks.sources.items() if cid in self.bodies]
        if not edits:
            return self.data
        edits.sort()
        parts, at = [], 0
        for offset, width, text in edits:
            parts += (self.data[at:offset], text)
            at = offset + width
        parts.append(self.data[at:])
        return b"".join(parts)


def from_page(page: dict, comments) -> SharedPage:
    """Serialize ``page`` (built for the anonymous reader), whose comment objects are ``comments``."""
    authors = {}
    for comment in comments:
        comment["my_vote"] = _Marker(_VOTE, comment["id"])
        if comment["author"] is not None and not comment["deleted"]:
            comment["body"] = _Marker(_BODY, comment["id"])
            authors[comment["id"]] = comment["author"]["id"]
    raw = current_app.json.dumps(page, default=_Marker.json, separators=(",", ":")).encode()
    parts, votes, bodies, at, size = [], {}, {}, 0, 0
    for match in _MARKERS.finditer(raw):
        piece = raw[at:match.start()]
        parts.append(piece)
        size += len(piece)
        if match.group(1) is not None:
            bodies[int(match.group(1))] = size
        else:
            votes[int(match.group(2))] = size
            parts.append(b"0")
            size += 1
        at = match.end()
    parts.append(raw[at:])
    return SharedPage(b"".join(parts), votes, bodies, authors)


def serve(viewer: User | None, cache_key: tuple, article_id: int, build: Callable[[User | None], dict],
          window: own_pending.Window | None, replies: int) -> bytes:
    """The JSON of a page for ``viewer``: ``build(viewer)`` makes it; ``window`` says which comments
    are at its top (None: the page is one comment), ``replies`` how many replies of each it shows.

    Moderators get pages of their own (they see every status); everyone else the shared page of
    ``cache_key`` (which must name the article's version), personalized by ``reader_marks``."""
    if viewer is not None and acts_as_moderator(viewer):
        return _dumps(build(viewer))

    def build_shared() -> SharedPage:
        page = build(None)
        return from_page(page, walk(page["comments"] if window is not None else [page]))

    if viewer is None:
        return page_cache.cached_page(cache_key, build_shared).data
    try:
        shared = page_cache.cached_page(cache_key, build_shared)
    except ApiError as error:  # hidden from everyone else: perhaps the reader's own pending comment
        if error.status != 404:
            raise
        return _dumps(build(viewer))
    marks = reader_marks(viewer, article_id, shared)
    if not marks.pending:
        return shared.for_reader(marks)
    page = own_pending.place(json.loads(shared.data), viewer, marks.pending, window, replies, marks.votes)
    if page is None:
        return _dumps(build(viewer))
    for comment in walk(page["comments"] if window is not None else [page]):
        comment_id = comment["id"]
        if comment_id in marks.votes:
            comment["my_vote"] = marks.votes[comment_id]
        if comment_id in marks.sources and not comment["deleted"]:
            comment["body"] = marks.sources[comment_id]
    return _dumps(page)


def _dumps(page: dict) -> bytes:
    return current_app.json.dumps(page, separators=(",", ":")).encode()


def walk(comments: list[dict]):
    """Every comment object of a page, replies included, without recursion."""
    stack = list(comments)
    while stack:
        comment = stack.pop()
        yield comment
        stack.extend(comment["replies"])


# The reader's votes among the page's comments, as one constant statement per database (a list of a few
# hundred ids would cost more to compile, each time, than the query costs to run).
_VOTES_ON_PAGE = {
    "postgresql": "SELECT comment_id, value FROM votes WHERE user_id = %s AND comment_id = ANY(%s)",
    "sqlite": "SELECT comment_id, value FROM votes WHERE user_id = ? "
              "AND comment_id IN (SELECT value FROM json_each(?))",
}


def _votes(user_id: int, ids: list[int]) -> list:
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        ids = current_app.json.dumps(ids)
    return connection.exec_driver_sql(_VOTES_ON_PAGE[connection.dialect.name], (user_id, ids)).all()


_PARENT = aliased(Comment, name="parent")
_OWN = (select(*threads.COMMENT_COLUMNS, Comment.shown_replies, Article.key,
               or_(_PARENT.id.is_(None), _PARENT.status == Status.APPROVED, _PARENT.shown_replies > 0))
        .join(Article, Article.id == Comment.article_id)
        .outerjoin(_PARENT, _PARENT.id == Comment.parent_id)
        .where(Comment.author_id == bindparam("author_id"), Comment.article_id == bindparam("article_id")))
_PENDING = _OWN.where(Comment.status == Status.PENDING)
_PENDING_OR_ON_PAGE = _OWN.where(or_(Comment.status == Status.PENDING, and_(
    Comment.id.in_(bindparam("on_page", expanding=True)), Comment.status == Status.APPROVED)))


def reader_marks(reader: User, article_id: int, page: SharedPage) -> ReaderMarks:
    """The reader's own comments in the article that the page shows or that wait (pending), and their
    votes on the page's comments and those: two indexed queries (comments by author and article, votes
    by comment and user)."""
    own_on_page = page.own_comments(reader.id)
    params = {"author_id": reader.id, "article_id": article_id}
    if own_on_page:
        own = run(_PENDING_OR_ON_PAGE, {**params, "on_page": own_on_page}).all()
    else:
        own = run(_PENDING, params).all()
    author = threads.AuthorView(reader.id, reader.username, reader.display_name, reader.role)
    sources, pending = {}, []
    for row in own:
        *fields, shown_replies, article_key, parent_public = row
        view = threads.CommentView(*fields, author)
        if view.status == Status.APPROVED:
            sources[view.id] = view.body
        else:
            pending.append(own_pending.Pending(view, article_key, shown_replies, bool(parent_public)))
    ids = [*page.votes, *(item.view.id for item in pending)]
    return ReaderMarks(votes=dict(_votes(reader.id, ids)) if ids else {}, sources=sources, pending=pending)
