"""Pages everyone shares, and the little that differs per reader.

A page of a thread (``GET /articles/{key}/comments``, ``GET /comments/{id}/replies``) is the same for
every reader who is not a moderator, except:
- ``my_vote`` of the comments shown (0 for anyone who did not vote on them);
- ``body`` (the Markdown source) of the reader's own comments;
- the reader's own pending comments, shown in place to them only.

So a page is built once, for the anonymous reader, and kept as a ``SharedPage``: its JSON bytes plus
the position of every ``my_vote`` value and of every place a ``"body"`` may go. A logged-in reader
costs two indexed queries (``reader_marks``: their votes and their own comments in the article) and a
few byte splices. A reader with a pending comment in the article (rare, and short-lived) gets a page
built for them alone, as before.

Positions are found by serializing the page with markers in place of those values: a marker is a
string no reader can produce (it carries a per-process random nonce), and both are found where JSON
puts structure, never inside a string (a quote inside a JSON string is always escaped).
"""
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select

from ..accounts.standing import acts_as_moderator
from ..database import run
from ..errors import ApiError
from ..extensions import db
from ..models import Comment, Status, User
from . import page_cache

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
    has_pending: bool  # they have a pending comment in the article: the page must be their own


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
          tops: Callable[[dict], list[dict]]) -> bytes:
    """The JSON of a page for ``viewer``: ``build(viewer)`` makes it, ``tops(page)`` finds its comments.

    Moderators get pages of their own (they see every status); everyone else the shared page of
    ``cache_key`` (which must name the article's version), personalized by ``reader_marks``."""
    if viewer is not None and acts_as_moderator(viewer):
        return current_app.json.dumps(build(viewer), separators=(",", ":")).encode()

    def build_shared() -> SharedPage:
        page = build(None)
        return from_page(page, walk(tops(page)))

    if viewer is None:
        return page_cache.cached_page(cache_key, build_shared).data
    try:
        shared = page_cache.cached_page(cache_key, build_shared)
    except ApiError as error:  # hidden from everyone else: perhaps the reader's own pending comment
        if error.status != 404:
            raise
        return current_app.json.dumps(build(viewer), separators=(",", ":")).encode()
    marks = reader_marks(viewer, article_id, shared)
    if marks.has_pending:
        return current_app.json.dumps(build(viewer), separators=(",", ":")).encode()
    return shared.for_reader(marks)


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


def _votes_on_page(user_id: int, page: SharedPage) -> list:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        ids = list(page.votes)
    else:
        ids = current_app.json.dumps(list(page.votes))
    return connection.exec_driver_sql(_VOTES_ON_PAGE[connection.dialect.name], (user_id, ids)).all()


_OWN = select(Comment.id, Comment.status, Comment.body).where(
    Comment.author_id == bindparam("author_id"), Comment.article_id == bindparam("article_id"))
_PENDING = _OWN.where(Comment.status == Status.PENDING)
_PENDING_OR_ON_PAGE = _OWN.where(or_(Comment.status == Status.PENDING, and_(
    Comment.id.in_(bindparam("on_page", expanding=True)), Comment.status == Status.APPROVED)))


def reader_marks(reader: User, article_id: int, page: SharedPage) -> ReaderMarks:
    """The reader's votes on the page's comments, their own comments on it and whether they have a
    pending comment in the article: two indexed queries (votes by comment and user, comments by
    author and article)."""
    votes = _votes_on_page(reader.id, page) if page.votes else []
    own_on_page = page.own_comments(reader.id)
    params = {"author_id": reader.id, "article_id": article_id}
    if own_on_page:
        own = run(_PENDING_OR_ON_PAGE, {**params, "on_page": own_on_page}).all()
    else:
        own = run(_PENDING, params).all()
    return ReaderMarks(
        votes=dict(votes),
        sources={cid: body for cid, status, body in own if status == Status.APPROVED},
        has_pending=any(status == Status.PENDING for _cid, status, _body in own),
    )
