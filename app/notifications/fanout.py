"""Turning events into messages, in the worker: one transaction claims a batch of events, writes
every message they cause and marks them processed, so a crash at any point either writes all of a
batch's messages or none (the batch is then taken again).

Each event goes to every handler: ``webhooks.on_event`` (calls to the endpoints that want it),
``replies.on_event`` (readers told of replies) and ``moderators.on_event`` (moderators told of held
comments). A handler reads the comment as it is now: one rejected since it was posted is not
announced as a reply.
"""
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..database import writing
from ..extensions import db
from ..models import Comment
from ..timeutil import utcnow
from . import moderators, replies, webhooks
from .models import Event

HANDLERS = (webhooks.on_event, replies.on_event, moderators.on_event)


def process_events(limit: int) -> int:
    """Fan out up to ``limit`` unprocessed events, oldest first, and commit; returns how many."""
    with writing():
        events = list(db.session.scalars(
            select(Event).where(Event.processed_at.is_(None)).order_by(Event.id).limit(limit)
            .with_for_update(skip_locked=True)))
        if not events:
            db.session.commit()
            return 0
        comments = _comments({event.comment_id for event in events if event.comment_id is not None})
        for event in events:
            comment = comments.get(event.comment_id)
            for handler in HANDLERS:
                handler(event, comment)
        db.session.execute(update(Event).where(Event.id.in_([event.id for event in events]))
                           .values(processed_at=utcnow()),
                           execution_options={"synchronize_session": False})
    db.session.commit()
    return len(events)


def _comments(ids: set[int]) -> dict[int, Comment]:
    """The events' comments with their articles and authors, in one query."""
    if not ids:
        return {}
    rows = db.session.scalars(select(Comment).where(Comment.id.in_(ids))
                              .options(joinedload(Comment.article), joinedload(Comment.author)))
    return {comment.id: comment for comment in rows}
