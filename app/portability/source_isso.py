"""Reading an Isso database (SQLite: tables threads, comments, preferences), opened read-only and
streamed row by row. Isso stores the Markdown its readers typed: it is kept as our source.

mode 1 (accepted) -> approved, 2 (in moderation) -> pending, 4 (deleted) -> not imported (a
tombstone if it has replies). Likes and dislikes become the comment's up- and downvotes.
"""
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from .records import Author, Item, Thread

MODES = {1: "approved", 2: "pending"}
DELETED_MODE = 4


def _time(value) -> datetime | None:
    """A Unix time; None when unreadable (the importer then dates the comment, and counts it)."""
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class IssoSource:
    kind = "isso"

    def __init__(self, path: str):
        self.path = path
        self.done = 0
        with self._connect() as connection:
            self.total = connection.execute("SELECT count(*) FROM comments").fetchone()[0]

    def _connect(self) -> sqlite3.Connection:
        uri = Path(self.path).resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True)

    def __iter__(self) -> Iterator[Item]:
        connection = self._connect()
        try:
            # Isso keeps no date for a thread: its first comment's stands in.
            threads = {row[0]: Thread(source_id=str(row[0]), url=row[1] or "", title=row[2] or "",
                                      created_at=_time(row[3]))
                       for row in connection.execute(
                           "SELECT threads.id, uri, title, (SELECT min(created) FROM comments"
                           " WHERE comments.tid = threads.id) FROM threads")}
            rows = connection.execute(
                "SELECT tid, id, parent, created, mode, text, author, email, likes, dislikes "
                "FROM comments ORDER BY id")
            for tid, cid, parent, created, mode, text, name, email, likes, dislikes in rows:
                self.done += 1
                author = Author(name=name or "", email=email or "")
                yield Item(source_id=str(cid), thread=threads.get(tid),
                           parent_id=str(parent) if parent is not None else None,
                           author=author, created_at=_time(created), body=text or "", html=False,
                           status=MODES.get(mode, "pending"),
                           skip="deleted" if mode == DELETED_MODE else None,
                           upvotes=max(int(likes or 0), 0), downvotes=max(int(dislikes or 0), 0))
        finally:
            connection.close()
