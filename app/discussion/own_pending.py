"""A reader's own pending comments, placed in a shared page where the reader alone sees them.

A pending comment is shown to its author in place: among its siblings in their order, counted in its
parent's ``reply_count``, perhaps pushing the last shown sibling into ``more_replies`` or onto the next
page. ``place`` does that to the anonymous page (a plain dict), from the rows of the reader's pending
comments (``shared_pages.reader_marks`` reads them) and, when one of them lands among comments of the
page, one query for the exact order of those comments (the page shows times to the second only).

It gives up (returns None, and the caller builds the reader's page from scratch) in the one case a
pending comment changes what the page holds above it: its parent is hidden from everyone else (say,
deleted) and shows, for this reader only, as a tombstone holding their reply.
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, select

from .. import pagination
from ..database import run
from ..models import Comment
from . import thread_cursors, threads

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ORDER_OF = select(Comment.id, Comment.pinned, Comment.score, Comment.created_at).where(
    Comment.id.in_(bindparam("ids", expanding=True)))


@dataclass(slots=True, frozen=True)
class SortValues:
    id: int
    pinned: bool
    score: int
    created_at: datetime

    def get(self, name: str):
        value = getattr(self, name)
        if isinstance(value, datetime):
            return (value - _EPOCH) // timedelta(microseconds=1)
        return int(value)


@dataclass(slots=True, frozen=True)
class Window:
    """The comments at the top of a page: the replies of ``parent_id`` (None: the article's top-level
    comments) in ``order`` ((name, descending) pairs), at most ``limit``, after the page's cursor."""
    parent_id: int | None
    order: Sequence[tuple[str, bool]]
    limit: int
    decode_after: Callable[[], list | None]  # the values of the page's cursor, in the order's names
    cursor: Callable[[SortValues], str]  # the next page's cursor after this comment

    def key(self, values: SortValues) -> tuple:
        return tuple(-values.get(name) if descending else values.get(name) for name, descending in self.order)

    def after_key(self) -> tuple | None:
        after = self.decode_after()
        if after is None:
            return None
        cursor = dict(zip((name for name, _ in self.order), after))
        return self.key(SortValues(cursor["id"], cursor.get("pinned", False), cursor.get("score", 0),
                                   cursor["created_at"]))


def thread_window(sort: str, limit: int, after: str | None) -> Window:
    names = {"oldest": (("pinned", True), ("created_at", False), ("id", False)),
             "newest": (("pinned", True), ("created_at", True), ("id", True)),
             "top": (("pinned", True), ("score", True), ("created_at", False), ("id", False))}[sort]
    fields = [name for name, _ in names]
    return Window(None, names, limit, lambda: thread_cursors.decode_thread_cursor(sort, after),
                  lambda values: pagination.encode(f"thread-{sort}", *(getattr(values, f) for f in fields)))


def replies_window(comment_id: int, limit: int, after: str | None) -> Window:
    return Window(comment_id, (("created_at", False), ("id", False)), limit,
                  lambda: thread_cursors.decode_replies_cursor(after),
                  lambda values: pagination.encode("replies", values.created_at, values.id))


@dataclass(slots=True, frozen=True)
class Pending:
    """One of the reader's pending comments, as ``place`` needs it."""
    view: threads.CommentView
    article_key: str
    shown_replies: int  # its publicly shown replies: with any, the public page holds it as a tombstone
    parent_public: bool  # its parent is shown to everyone (or it has none)


class _Unordered(Exception):
    """A comment of the page is gone since the page was built: the reader's page is built afresh."""


def place(page: dict, reader, pending: list[Pending], window: Window | None, replies: int,
          votes: dict[int, int]) -> dict | None:
    """``page`` (the anonymous page, changed in place) as ``reader`` sees it with their ``pending``
    comments (``replies``: how many replies of each comment the page shows); None when only a page
    built for them can show it."""
    tops = page["comments"] if window is not None else [page]
    index = _index(tops)
    mine = {p.view.id for p in pending}
    pending = sorted(pending, key=lambda p: (p.view.depth, p.view.created_at, p.view.id))
    exact = _exact_order(pending, index, tops, window)
    try:
        for item in pending:
            comment, parent_id = item.view, item.view.parent_id
            if comment.id in index:  # the public page holds it as a tombstone: its author sees it whole
                _reveal(index[comment.id], item, reader, votes)
            elif item.shown_replies:  # shown to everyone, but not on this page
                continue
            elif window is not None and parent_id == window.parent_id:
                _into_window(page, tops, index, _json(item, reader, votes), window, exact)
            elif parent_id in index:
                _into_replies(index[parent_id], index, _json(item, reader, votes), replies, exact)
            elif not (item.parent_public or parent_id in mine):
                return None  # its parent shows, to this reader only, as a tombstone
    except _Unordered:
        return None
    return page


def _index(tops: list[dict]) -> dict[int, dict]:
    index, stack = {}, list(tops)
    while stack:
        comment = stack.pop()
        index[comment["id"]] = comment
        stack.extend(comment["replies"])
    return index


def _exact_order(pending, index, tops, window) -> dict[int, SortValues]:
    """Sort values of the pending comments and of those they may land among: one query, only when
    some pending comment lands on the page (a reply to a pending one lands only where that one did)."""
    ids = set()
    for item in pending:
        parent_id = item.view.parent_id
        if window is not None and parent_id == window.parent_id:
            ids.update(top["id"] for top in tops)
        elif parent_id in index:
            ids.update(reply["id"] for reply in index[parent_id]["replies"])
        else:
            continue
        ids.update(other.view.id for other in pending)
    if not ids:
        return {}
    return {row.id: SortValues(*row) for row in run(_ORDER_OF, {"ids": sorted(ids)})}


def _json(item: Pending, reader, votes) -> dict:
    return threads.comment_json(item.view, reader, item.article_key, votes.get(item.view.id, 0))


def _reveal(comment: dict, item: Pending, reader, votes) -> None:
    whole = threads.comment_json(item.view, reader, item.article_key, votes.get(item.view.id, 0),
                                 comment["reply_count"], comment["more_replies"])
    whole["replies"] = comment["replies"]
    comment.clear()
    comment.update(whole)


def _insert_sorted(items: list[dict], new: dict, key, exact) -> None:
    def sort_key(comment):
        values = exact.get(comment["id"])
        if values is None:
            raise _Unordered
        return key(values)

    mine = sort_key(new)
    at = next((position for position, item in enumerate(items) if sort_key(item) > mine), len(items))
    items.insert(at, new)


def _forget(index: dict, comment: dict) -> None:
    for gone in _index([comment]):
        index.pop(gone, None)


def _into_replies(parent: dict, index, comment: dict, replies: int, exact) -> None:
    """A pending reply under a comment of the page: counted, and shown if among its first replies."""
    shown = parent["replies"]
    _insert_sorted(shown, comment, _reply_key, exact)
    index[comment["id"]] = comment
    if len(shown) > replies:
        _forget(index, shown.pop())
    parent["reply_count"] += 1
    parent["more_replies"] = parent["reply_count"] - len(shown)


def _reply_key(values: SortValues) -> tuple:
    return values.get("created_at"), values.id


def _into_window(page: dict, tops: list[dict], index, comment: dict, window: Window, exact) -> None:
    """A pending comment at the top of the page: shown if it falls within the page's window."""
    values = exact.get(comment["id"])
    if values is None:
        raise _Unordered
    after = window.after_key()
    if after is not None and window.key(values) <= after:
        return  # on an earlier page
    has_more = page["next"] is not None
    _insert_sorted(tops, comment, window.key, exact)
    index[comment["id"]] = comment
    if has_more and tops[-1] is comment:
        tops.pop()  # on a later page
        index.pop(comment["id"])
        return
    if len(tops) > window.limit:
        _forget(index, tops.pop())
        has_more = True
    if has_more:
        last = exact.get(tops[-1]["id"])
        if last is None:
            raise _Unordered
        page["next"] = window.cursor(last)
