"""Turning events into messages, in the worker, in two steps so that the database's write lock is held
only for the writes:

1. *Plan* (no write lock): a batch of unprocessed events is read (on PostgreSQL locked
   ``FOR UPDATE SKIP LOCKED``, so two workers never plan the same events) and each goes to every
   handler: ``webhooks.on_event`` (calls to the endpoints that want it), and the batch to
   ``replies.on_events`` (readers told of replies) and ``moderators.on_events`` (moderators told of
   held comments), each in a few queries for the whole batch. A handler
   reads what it needs, composes its messages, and adds the writes to the ``Plan``.
2. *Write* (under the write lock): the events are marked processed, but only if no other worker did
   meanwhile (SQLite has no row locks: the guarded UPDATE tells), then the planned writes run, in
   the same transaction. A crash writes all of a batch's messages or none (the batch is then taken
   again).

A handler reads the comment as it is now: one rejected since it was posted is not announced as a reply.
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..database import writing
from ..extensions import db
from ..models import Comment
from ..timeutil import utcnow
from . import mail, moderators, preferences, replies, webhooks
from .models import Event

# Per event; replies.on_events and moderators.on_events take the whole batch (their queries are shared
# by every comment in it).
HANDLERS = (webhooks.on_event,)


@dataclass
class Plan:
    """The writes a batch of events causes, run together under the write lock."""
    writes: list[Callable[[], None]] = field(default_factory=list)
    # New notices, each with the message that tells it at once (or None: it waits for a digest).
    notices: list[tuple[dict, tuple[str, dict] | None]] = field(default_factory=list)
    # Notification messages planned per recipient in this batch (the hourly budget counts them too).
    mails: Counter = field(default_factory=Counter)

    def add(self, write: Callable[[], None]) -> None:
        self.writes.append(write)

    def notice(self, user_id: int, kind: str, comment_id: int, article_id: int,
               message: tuple[str, dict] | None) -> None:
        """A notice to write unless it exists; ``message`` (category, payload) is sent only if it did not."""
        self.notices.append(({"user_id": user_id, "kind": kind, "comment_id": comment_id,
                              "article_id": article_id}, message))

    def write(self) -> None:
        """Every planned write: the notices in one statement, their messages in another, then the rest."""
        if self.notices:
            written = preferences.record_notices([row for row, _ in self.notices],
                                                 mailed={_key(row) for row, message in self.notices if message})
            messages = [(row["user_id"], message) for row, message in self.notices
                        if message is not None and _key(row) in written]
            mail.queue_many(messages)
        for write in self.writes:
            write()


def _key(row: dict) -> tuple[int, str, int]:
    return row["user_id"], row["kind"], row["comment_id"]


def process_events(limit: int) -> int:
    """Fan out up to ``limit`` unprocessed events, oldest first, and commit; returns how many."""
    events = list(db.session.scalars(
        select(Event).where(Event.processed_at.is_(None)).order_by(Event.id).limit(limit)
        .with_for_update(skip_locked=True)))
    if not events:
        db.session.commit()
        return 0
    comments = _comments({event.comment_id for event in events if event.comment_id is not None})
    plan = Plan()
    batch = [(event, comments.get(event.comment_id)) for event in events]
    for event, comment in batch:
        for handler in HANDLERS:
            handler(event, comment, plan)
    replies.on_events(batch, plan)
    moderators.on_events(batch, plan)
    ids = [event.id for event in events]
    with writing():
        marked = db.session.execute(
            update(Event).where(Event.id.in_(ids), Event.processed_at.is_(None)).values(processed_at=utcnow()),
            execution_options={"synchronize_session": False}).rowcount
        if marked != len(ids):  # another worker processed some of them meanwhile (SQLite): start again
            db.session.rollback()
            return 0
        plan.write()
    db.session.commit()
    return len(events)


def _comments(ids: set[int]) -> dict[int, Comment]:
    """The events' comments with their articles and authors, in one query."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Comment).where(Comment.id.in_(ids))
                              .options(joinedload(Comment.article), joinedload(Comment.author)))
    return {comment.id: comment for comment in rows}
