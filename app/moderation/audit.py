"""The audit log: one row per decision, by a moderator (actor) or by a rule (actor NULL)."""
from sqlalchemy import bindparam, insert, select

from ..database import run
from ..extensions import db
from ..models import Comment, ModerationEvent, User
from ..notifications import events
from ..timeutil import utcnow


def record_event(action: str, *, actor: User | None, comment: Comment | None = None,
                 user_id: int | None = None, from_status: str | None = None,
                 to_status: str | None = None, reason: str | None = None,
                 previous_body: str | None = None) -> ModerationEvent:
    """One row of the audit log; ``user_id`` is the user affected (the author, or the banned user)."""
    affected = user_id if user_id is not None else (comment.author_id if comment is not None else None)
    event = ModerationEvent(
        action=action, actor_id=actor.id if actor is not None else None,
        comment_id=comment.id if comment is not None else None,
        user_id=affected,
        # Read in the INSERT itself: the log names the user even after the account is deleted.
        user_name=select(User.username).where(User.id == affected).scalar_subquery() if affected else None,
        from_status=str(from_status) if from_status is not None else None,
        to_status=str(to_status) if to_status is not None else None,
        reason=stored_reason(reason),
        previous_body=previous_body,
    )
    db.session.add(event)  # flushed with the decision it records
    if action == "ban":  # a moderator's or a ban carried over to a new account (identity_bans)
        events.record(events.USER_BANNED, user_id=affected, actor_id=event.actor_id)
    return event


def record_automatic(action: str, *, comment_id: int, user_id: int, to_status: str, reason: str) -> None:
    """A rule's decision on a new comment (actor NULL), as one Core INSERT: the row ``record_event``
    writes, without the ORM's flush of an object with a SQL expression in it (a post holds often)."""
    run(_INSERT_AUTOMATIC, {"at": utcnow(), "action": action, "comment_id": comment_id, "user_id": user_id,
                            "to_status": str(to_status), "reason": stored_reason(reason)})


def stored_reason(reason: str | None) -> str | None:
    """The reason as the log keeps it: None when empty, cut to the column's 500 characters."""
    return (reason or None) and reason[:500]


_table = ModerationEvent.__table__
_INSERT_AUTOMATIC = insert(_table).values(
    at=bindparam("at", type_=_table.c.at.type), actor_id=None, action=bindparam("action"),
    comment_id=bindparam("comment_id"), user_id=bindparam("user_id"),
    user_name=select(User.username).where(User.id == bindparam("user_id")).scalar_subquery(),
    from_status=None, to_status=bindparam("to_status"), reason=bindparam("reason"), previous_body=None)
