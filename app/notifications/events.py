"""Recording what happened, in the transaction that made it happen (the outbox's first half).

An event row costs one INSERT in the request; everything else (who is told, which webhooks are
called, what the messages say) is decided by the worker (``fanout.py``). A transaction that rolls
back takes its events with it, so nothing is ever sent for what did not happen.
"""
from sqlalchemy import insert

from ..database import run
from ..models import Status
from .models import Event

COMMENT_CREATED = "comment.created"
COMMENT_APPROVED = "comment.approved"
COMMENT_REJECTED = "comment.rejected"
COMMENT_SPAM = "comment.spam"
COMMENT_DELETED = "comment.deleted"
COMMENT_FLAGGED = "comment.flagged"
USER_BANNED = "user.banned"
# Not offered to webhooks: a comment went (back) to the pending queue. Moderators are told.
COMMENT_HELD = "comment.held"

# The events a webhook may subscribe to (the contract's list), in its order.
WEBHOOK_EVENTS = (COMMENT_CREATED, COMMENT_APPROVED, COMMENT_REJECTED, COMMENT_SPAM,
                  COMMENT_DELETED, COMMENT_FLAGGED, USER_BANNED)

# The event a status change is (lifecycle.change_status).
_ON_STATUS = {
    Status.APPROVED: COMMENT_APPROVED,
    Status.REJECTED: COMMENT_REJECTED,
    Status.SPAM: COMMENT_SPAM,
    Status.DELETED: COMMENT_DELETED,
    Status.PENDING: COMMENT_HELD,
}

_INSERT = insert(Event)


def record(type_: str, *, comment_id: int | None = None, user_id: int | None = None,
           actor_id: int | None = None) -> None:
    """Write one event in the current transaction (a Core INSERT: no ORM bookkeeping on hot paths)."""
    run(_INSERT, {"type": type_, "comment_id": comment_id, "user_id": user_id, "actor_id": actor_id})


def record_status_change(comment_id: int, author_id: int | None, new_status: str) -> None:
    """The event of a comment moved to ``new_status`` (every status has one)."""
    record(_ON_STATUS[Status(new_status)], comment_id=comment_id, user_id=author_id)
