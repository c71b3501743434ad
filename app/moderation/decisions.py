"""app.moderation.decisions"""
from sqlalchemy import select, update

from ..database import writing
from ..discussion.lifecycle import change_status, thread_changed
from ..errors import conflict, forbidden, not_found, validation_error
from ..extensions import db
from ..models import Comment, Flag, Status, User, rank_of
from ..timeutil import utcnow
from .audit import record_event
from .rules import open_flaggers

ACTIONS = ("approve", "reject", "spam", "pin", "unpin")


MAX_BULK = 500


# action -> (statuses it may start from, status it leads to). Approving an approved comment confirms
# it (dismissing its flags, teaching the spam filter "not spam"): logged from approved to approved.
# Marking a spam comment as spam confirms the spam filter's decision the same way (teaching it "spam"):
# the filter's own decisions never train it, so without a confirmation the comments it is surest of
# would never be learned from, and its precision at the spam threshold would count only reversals.
_TRANSITIONS = {
    "approve": ((Status.PENDING, Status.REJECTED, Status.SPAM, Status.APPROVED), Status.APPROVED),
    "reject": ((Status.PENDING, Status.APPROVED, Status.SPAM), Status.REJECTED),
    "spam": ((Status.PENDING, Status.APPROVED, Status.REJECTED, Status.SPAM), Status.SPAM),
}


_DONE = {"approve": "approved", "reject": "rejected", "spam": "marked as spam"}


def ensure_outranks_authors(actor: User, comments: list[Comment], verb: str) -> None:
    """Staff words are acted on only by their author or a higher role (an admin's by no one else); 403."""
    others = {c.author_id for c in comments if c.author_id is not None and c.author_id != actor.id}
    if not others:
        return
    roles = db.session.execute(select(User.id, User.role).where(User.id.in_(others))).all()
    outranked = {user_id for user_id, role in roles if rank_of(role) >= actor.rank}
    if outranked:
        shown = ", ".join(str(c.id) for c in comments if c.author_id in outranked)
        raise forbidden(f"You cannot {verb} comments by staff of your rank or "
                        f"above (comment {shown}). Nothing was changed.")


@writing()  # the decision (decide) follows
def find_for_decision(comment_id: int) -> Comment:
    """The comment, locked for this transaction (so two moderators cannot count it twice); 404."""
    comment = db.session.scalar(
        select(Comment).where(Comment.id == comment_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if comment is None:
        raise not_found("No such comment.")
    return comment


def _apply(comment: Comment, action: str, actor: User, reason: str | None) -> bool:
    """Make the decision and its audit row; True when the comment's open flags are to be resolved."""
    if action not in ACTIONS:
        raise validation_error({"action": "must be one of " + ", ".join(ACTIONS)})
    current = Status(comment.status)
    if current == Status.DELETED:
        raise conflict(f"Comment {comment.id} is deleted.")
    if action in ("pin", "unpin"):
        wanted = action == "pin"
        if comment.pinned == wanted:
            raise conflict(f"Comment {comment.id} is already {action}ned.")
        comment.pinned = wanted
        thread_changed(comment.article_id)
        record_event(action, actor=actor, comment=comment, from_status=current,
                     to_status=current, reason=reason)
        return False
    sources, target = _TRANSITIONS[action]
    if current not in sources:
        raise conflict(f"Comment {comment.id} is {current.value}; it cannot be {_DONE[action]}.")
    change_status(comment, target)
    record_event(action, actor=actor, comment=comment, from_status=current, to_status=target,
                 reason=reason)
    return True


def resolve_flags(comment_ids: list[int]) -> None:
    if not comment_ids:
        return
    db.session.execute(update(Flag).where(Flag.comment_id.in_(comment_ids), Flag.resolved_at.is_(None))
                       .values(resolved_at=utcnow()))
    db.session.execute(update(Comment).where(Comment.id.in_(comment_ids)).values(open_flags=0)
                       .execution_options(synchronize_session="fetch"))


@writing()
def decide(comment: Comment, action: str, actor: User, reason: str | None = None) -> Comment:
    """A moderator's decision on one comment (see the module's transitions)."""
    ensure_outranks_authors(actor, [comment], "decide on")
    if _apply(comment, action, actor, reason):
        resolve_flags([comment.id])
    db.session.flush()
    return comment


@writing()
def bulk_decide(ids: list[int], action: str, actor: User, reason: str | None = None) -> int:
    """The same decision on many comments, all or nothing.

    Any unknown id is ``404`` and any invalid transition ``409`` for the whole
    request: the error handler rolls everything back. Duplicated ids count once.
    """
    wanted = sorted(set(ids))
    if len(wanted) > MAX_BULK:
        raise validation_error({"ids": f"at most {MAX_BULK} ids at once"})
    # Locked in id order, so two bulk requests cannot deadlock each other.
    found = list(db.session.scalars(
        select(Comment).where(Comment.id.in_(wanted)).order_by(Comment.id).with_for_update()
        .execution_options(populate_existing=True)
    ))
    missing = set(wanted) - {comment.id for comment in found}
    if missing:
        shown = ", ".join(str(i) for i in sorted(missing)[:20])
        raise not_found(f"No such comment: {shown}. Nothing was changed.")
    ensure_outranks_authors(actor, found, "decide on")
    to_resolve = [comment.id for comment in found if _apply(comment, action, actor, reason)]
    resolve_flags(to_resolve)
    db.session.flush()
    return len(found)


@writing()
def hold_for_flags(comment: Comment) -> None:
    """Send an approved comment that reached the flag threshold back to pending (a rule's decision)."""
    db.session.refresh(comment, with_for_update=True)
    if comment.status != Status.APPROVED:
        return  # another request held or decided it meanwhile
    flaggers = open_flaggers(comment.id)
    old = change_status(comment, Status.PENDING)
    comment.held_because = "flags"
    record_event("hold", actor=None, comment=comment, from_status=old, to_status=Status.PENDING,
                 reason=f"flagged by {flaggers} reader{'s' if flaggers != 1 else ''}")
    db.session.flush()


