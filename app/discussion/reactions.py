"""Readers' reactions to comments: votes, and flags that send a comment back to moderators."""
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.standing import refuse_banned
from ..database import writing
from ..errors import conflict, forbidden
from ..extensions import db
from ..models import Comment, Flag, Status, User, Vote
from ..moderation import decisions, rules
from ..moderation import settings as moderation_settings
from ..notifications import events
from .lifecycle import thread_changed
from .threads import find_visible


@writing()
def vote(comment_id: int, voter: User, value: int) -> dict:
    """Set ``voter``'s vote to -1, 0 (withdraw) or 1; counters move in SQL by the difference."""
    refuse_banned(voter)
    comment = find_visible(comment_id, voter)
    if comment.author_id == voter.id:
        raise forbidden("You cannot vote on your own comment.")
    existing = db.session.scalar(
        select(Vote).where(Vote.comment_id == comment.id, Vote.user_id == voter.id).with_for_update()
    )
    old = existing.value if existing else 0
    if value == old:
        return _vote_state(comment.id, value)
    if existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(Vote(comment_id=comment.id, user_id=voter.id, value=value))
        except IntegrityError:
            raise conflict("Your vote is being recorded already; try again.") from None
    elif value == 0:
        db.session.delete(existing)
    else:
        existing.value = value
    up = int(value == 1) - int(old == 1)
    down = int(value == -1) - int(old == -1)
    db.session.execute(
        update(Comment).where(Comment.id == comment.id).values(
            upvotes=Comment.upvotes + up, downvotes=Comment.downvotes + down,
            score=Comment.score + up - down)
    )
    thread_changed(comment.article_id)
    db.session.flush()
    return _vote_state(comment.id, value)


def _vote_state(comment_id: int, my_vote: int) -> dict:
    row = db.session.execute(
        select(Comment.score, Comment.upvotes, Comment.downvotes)
        .where(Comment.id == comment_id).execution_options(populate_existing=True)
    ).one()
    return {"score": row.score, "upvotes": row.upvotes, "downvotes": row.downvotes, "my_vote": my_vote}


@writing()
def flag(comment_id: int, reporter: User, reason: str, note: str | None) -> Flag:
    """Record a reader's report; enough distinct reporters with history send an approved comment
    back to pending, unless staff wrote it (``rules.reached_flag_threshold``)."""
    refuse_banned(reporter)
    comment = find_visible(comment_id, reporter)
    report = Flag(comment_id=comment.id, user_id=reporter.id, reason=reason, note=note or None)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise conflict("You have already flagged this comment.") from None
    db.session.execute(update(Comment).where(Comment.id == comment.id)
                       .values(open_flags=Comment.open_flags + 1))
    events.record(events.COMMENT_FLAGGED, comment_id=comment.id, user_id=comment.author_id,
                  actor_id=reporter.id)
    db.session.refresh(comment)
    settings = moderation_settings.effective_settings()
    if comment.status == Status.APPROVED and rules.reached_flag_threshold(comment, settings):
        decisions.hold_for_flags(comment)
    return report


