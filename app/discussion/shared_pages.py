"""Pages everyone shares, and the little that differs per reader.

A page of a thread (``GET /articles/{key}/comments``, ``GET /comments/{id}/replies``) is the same for
every reader who is not a moderator, except:
- ``my_vote`` of the comments shown (0 for anyone who did not vote on them);
- ``body`` (the Markdown source) of the reader's own comments;
- the reader's own pending comments, shown in place to them only.

So a page is built once, for the anonymous reader, and kept as a ``SharedPage``: its JSON bytes plus
the position of every ``my_vote`` value and of every place a ``"body"`` may go. A logged-in reader
costs two indexed queries (``reader_marks``: their votes and their own comments in the article) and a
few byte splices; the marks are kept per reader and page version, so reading the page again costs the
splices alone. A reader with a pending comment in the article has it placed in a copy of the shared
page (``own_pending``: the tops it lands in are rewritten, one more query), not a page built anew.

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
from ..database import list_param, run
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


@dataclass(slots=True)
class ReaderMarks:
    """What one reader adds to a shared page of one article."""
    votes: dict[int, int]  # comment id -> -1 or 1
    sources: dict[int, str]  # the reader's own comments on the page -> Markdown source
    pending: list  # their pending comments in the article (own_pending.Pending), shown to them in place
    placed: bytes | None = None  # with pending comments: the whole page as this reader sees it

    def __len__(self) -> int:
        # What the readers' cache counts, roughly.
        return (200 + 60 * len(self.votes) + sum(len(source) for source in self.sources.values())
                + sum(1000 + len(item.view.body_html) for item in self.pending) + len(self.placed or b""))


class SharedPage:
    """The anonymous JSON of a page, with where each comment's ``my_vote`` and ``body`` go, and where
    each of its top comments lies (``own_pending`` rewrites only the tops a pending comment lands in)."""

    __slots__ = ("data", "votes", "bodies", "by_author", "lead", "tops", "top_of", "tail")

    def __init__(self, data: bytes, votes: dict[int, int], bodies: dict[int, int], authors: dict[int, int],
                 lead: int, tops: list[tuple[int, int, int]], top_of: dict[int, int], tail: dict | None):
        self.data = data
        self.votes = votes  # comment id -> offset of the "0" of its my_vote
        self.bodies = bodies  # comment id -> offset where its ,"body":... pair goes
        self.by_author: dict[int, list[int]] = {}  # author id -> their comments shown with their text
        for comment_id, author_id in authors.items():
            self.by_author.setdefault(author_id, []).append(comment_id)
        self.lead = lead  # where the first top comment's JSON starts (after ``"comments":[``)
        self.tops = tops  # (id, start, end) of each top comment's JSON, in order
        self.top_of = top_of  # comment id -> the id of the top comment it is shown under (or is)
        self.tail = tail  # a list page's keys after "comments" ("next"); None: the page is one comment

    def __len__(self) -> int:
        # What the page cache counts: the bytes and, roughly, the indexes.
        return len(self.data) + 160 * len(self.votes)

    def own_comments(self, user_id: int) -> list[int]:
        return self.by_author.get(user_id, [])

    def for_reader(self, marks: ReaderMarks, start: int = 0, end: int | None = None) -> bytes:
        """The page (or its bytes from ``start`` to ``end``) with the reader's votes and sources."""
        end = len(self.data) if end is None else end
        edits = [(self.votes[cid], 1, str(value).encode()) for cid, value in marks.votes.items()
                 if value and start <= self.votes.get(cid, -1) < end]
        edits += [(self.bodies[cid], 0, b',"body":' + current_app.json.dumps(source).encode())
                  for cid, source in marks.sources.items() if start <= self.bodies.get(cid, -1) < end]
        if not edits:
            return self.data[start:end] if start or end < len(self.data) else self.data
        edits.sort()
        parts, at = [], start
        for offset, width, text in edits:
            parts += (self.data[at:offset], text)
            at = offset + width
        parts.append(self.data[at:end])
        return b"".join(parts)

    def with_pending(self, reader: User, marks: ReaderMarks, window, replies: int) -> bytes | None:
        """The page with the reader's pending comments placed (``own_pending``): the tops they land in
        are read back and written again, every other top is copied. None: build the reader's page."""
        touched = {self.top_of[i] for item in marks.pending for i in (item.view.id, item.view.parent_id)
                   if i in self.top_of}
        tops = [json.loads(self.data[start:end]) if top_id in touched or window is None
                else {"id": top_id, "replies": [], _UNTOUCHED: (start, end)}
                for top_id, start, end in self.tops]
        page = {"comments": tops, **(self.tail or {})} if window is not None else tops[0]
        if own_pending.place(page, reader, marks.pending, window, replies, marks.votes) is None:
            return None
        parts = []
        for top in tops if window is not None else [page]:
            if _UNTOUCHED in top:
                parts.append(self.for_reader(marks, *top[_UNTOUCHED]))
                continue
            for comment in walk([top]):
                comment_id = comment["id"]
                if comment_id in marks.votes:
                    comment["my_vote"] = marks.votes[comment_id]
                if comment_id in marks.sources and not comment["deleted"]:
                    comment["body"] = marks.sources[comment_id]
            parts.append(_dumps(top))
        if window is None:
            return parts[0]
        return self.data[:self.lead] + b",".join(parts) + _tail({key: page[key] for key in self.tail})


_UNTOUCHED = "\x00untouched"  # a top that keeps its shared bytes: (start, end) in them


def _tail(rest: dict) -> bytes:
    """What follows a list page's comments: ``],"next":...}``."""
    return b"]" + (b"," + _dumps(rest)[1:] if rest else b"}")


def _dumps(page) -> bytes:
    return current_app.json.dumps(page, separators=(",", ":")).encode()


def from_page(page: dict, is_list: bool) -> SharedPage:
    """Serialize ``page`` (built for the anonymous reader): a list page (``comments``, then ``next``)
    or, when not ``is_list``, one comment. Each comment's JSON around its replies is kept (``_fragment``),
    so a page built again after a post serializes only the comments that changed."""
    tops = page["comments"] if is_list else [page]
    if is_list:
        keys = list(page)
        at = keys.index("comments")
        head = _dumps({key: page[key] for key in keys[:at]})[:-1]
        head += (b"," if at else b"") + b'"comments":['
        tail = {key: page[key] for key in keys[at + 1:]}
    else:
        head, tail = b"", None
    parts, votes, bodies, authors, ranges, top_of = [head], {}, {}, {}, [], {}
    size = len(head)
    fragments = page_cache.fragments()
    for index, top in enumerate(tops):
        if index:
            parts.append(b",")
            size += 1
        start, top_id = size, top["id"]
        stack: list = [top]
        while stack:
            item = stack.pop()
            if type(item) is bytes:  # a comma between replies
                parts.append(item)
                size += 1
                continue
            if type(item) is tuple:  # a comment's tail, after its replies
                fragment, comment_id, head_at = item
                votes[comment_id] = fragment.place(fragment.vote_at, head_at, size)
                if fragment.body_at is not None:
                    bodies[comment_id] = fragment.place(fragment.body_at, head_at, size)
                parts.append(fragment.tail)
                size += len(fragment.tail)
                continue
            comment_id = item["id"]
            fragment = _fragment(item, fragments)
            top_of[comment_id] = top_id
            if fragment.body_at is not None:
                authors[comment_id] = item["author"]["id"]
            stack.append((fragment, comment_id, size))
            parts.append(fragment.head)
            size += len(fragment.head)
            replies = item["replies"]
            for at in range(len(replies) - 1, -1, -1):
                stack.append(replies[at])
                if at:
                    stack.append(b",")
        ranges.append((top_id, start, size))
    if is_list:
        parts.append(_tail(tail))
    return SharedPage(b"".join(parts), votes, bodies, authors, len(head), ranges, top_of, tail)


@dataclass(slots=True, frozen=True)
class _Fragment:
    """One comment's JSON on a shared page around its replies: ``head`` ends with ``"replies":[`` and
    ``tail`` begins with its ``]``; offsets count in ``head + tail``."""
    head: bytes
    tail: bytes
    vote_at: int  # where the "0" of its my_vote is
    body_at: int | None  # where its ,"body":... pair goes; None when nobody sees its source

    def place(self, offset: int, head_at: int, tail_at: int) -> int:
        """Where ``offset`` of the fragment lands on a page that has its head at ``head_at`` and its tail
        at ``tail_at``."""
        return head_at + offset if offset < len(self.head) else tail_at + offset - len(self.head)

    def __len__(self) -> int:
        # What the fragments' cache counts: the bytes, and the key (the comment's values) about as much.
        return 2 * (len(self.head) + len(self.tail)) + 200


_REPLIES = b'"replies":[]'


def _fragment(comment: dict, fragments: page_cache.PageCache) -> _Fragment:
    """The fragment of ``comment``, kept by what the comment holds (every value but its replies): the same
    values always make the same bytes, so a kept fragment is never stale and needs no invalidation."""
    key = tuple((name, tuple(value.items()) if type(value) is dict else value)
                for name, value in comment.items() if name != "replies")
    try:
        found = fragments.get(key)
    except TypeError:  # a value that is not hashable (a list): not kept
        key, found = None, None
    if found is None:
        found = _serialize_fragment(comment)
        if key is not None:
            fragments.put(key, found)
    return found


def _serialize_fragment(comment: dict) -> _Fragment:
    comment_id = comment["id"]
    shaped = {**comment, "my_vote": _Marker(_VOTE, comment_id), "replies": []}
    if comment["author"] is not None and not comment["deleted"]:
        shaped["body"] = _Marker(_BODY, comment_id)
    raw = current_app.json.dumps(shaped, default=_Marker.json, separators=(",", ":")).encode()
    parts, at, size, vote_at, body_at = [], 0, 0, None, None
    for match in _MARKERS.finditer(raw):
        parts.append(raw[at:match.start()])
        size += match.start() - at
        if match.group(1) is not None:
            body_at = size
        else:
            vote_at = size
            parts.append(b"0")
            size += 1
        at = match.end()
    parts.append(raw[at:])
    data = b"".join(parts)
    split = data.index(_REPLIES) + len(_REPLIES) - 1  # a quote is escaped inside strings: this is the key
    return _Fragment(data[:split], data[split:], vote_at, body_at)


def serve(viewer: User | None, cache_key: tuple, article_id: int, build: Callable[[User | None], dict],
          window: own_pending.Window | None, replies: int) -> bytes:
    """The JSON of a page for ``viewer``: ``build(viewer)`` makes it; ``window`` says which comments
    are at its top (None: the page is one comment), ``replies`` how many replies of each it shows.

    Moderators get pages of their own (they see every status); everyone else the shared page of
    ``cache_key`` (which must name the article's version), personalized by ``reader_marks``."""
    if viewer is not None and acts_as_moderator(viewer):
        return _dumps(build(viewer))

    def build_shared() -> SharedPage:
        return from_page(build(None), is_list=window is not None)

    if viewer is None:
        return page_cache.cached_page(cache_key, build_shared).data
    try:
        shared = page_cache.cached_page(cache_key, build_shared)
    except ApiError as error:  # hidden from everyone else: perhaps the reader's own pending comment
        if error.status != 404:
            raise
        return _dumps(build(viewer))

    def mark() -> ReaderMarks:
        marks = reader_marks(viewer, article_id, shared)
        if marks.pending:
            marks.placed = shared.with_pending(viewer, marks, window, replies) or _dumps(build(viewer))
        return marks

    # Kept per reader and page: the key names the article's version, which everything the reader marks
    # (their votes, comments, pending comments, name) bumps when it changes.
    marks = page_cache.cached_page((viewer.id, *cache_key), mark, page_cache.readers())
    return marks.placed if marks.placed is not None else shared.for_reader(marks)


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
    ids = list_param(ids, connection.dialect.name)
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
