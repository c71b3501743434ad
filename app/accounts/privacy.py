"""A reader's own data: export everything they wrote, and delete their account."""
from sqlalchemy import delete, func, select, union, update

from ..database import writing
from ..discussion.lifecycle import change_status, thread_changed
from ..discussion.threads import comment_json
from ..extensions import db
from ..models import Article, Comment, Flag, Status, User, Vote
from ..timeutil import isoformat
from . import identity_bans
from .roles import ensure_admin_remains
from .serialize import user_json
from .sessions import end_all_sessions


def export_account(user: User) -> dict:
    rows = db.session.execute(
        select(Comment, Article.key).join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == user.id).order_by(Comment.id)
    ).all()
    comments = []
    for comment, key in rows:
        comment.author = user
        data = comment_json(comment, user, key)
        data["body"] = comment.body
        comments.append(data)
    votes = db.session.execute(select(Vote.comment_id, Vote.value).where(Vote.user_id == user.id)
                               .order_by(Vote.comment_id)).all()
    flags = db.session.scalars(select(Flag).where(Flag.user_id == user.id).order_by(Flag.id)).all()
    return {
        "user": user_json(user, user),
        "comments": comments,
        "votes": [{"comment_id": cid, "value": value} for cid, value in votes],
        "flags": [{"comment_id": f.comment_id, "reason": f.reason, "note": f.note,
                   "created_at": isoformat(f.created_at)} for f in flags],
    }


@writing()
def delete_account(user: User, anonymize: bool) -> None:
    """Remove ``user`` (409 for the last admin) and end their sessions; their comments become
    tombstones, or stay with no author when anonymizing."""
    ensure_admin_remains(user)
    end_all_sessions(user)
    if not anonymize:
        for comment in db.session.scalars(
                select(Comment).where(Comment.author_id == user.id, Comment.status != Status.DELETED)):
            change_status(comment, Status.DELETED)
    # Their votes and open flags disappear with them: take them out of the counters first.
    for comment_id, value in db.session.execute(
            select(Vote.comment_id, Vote.value).where(Vote.user_id == user.id)).all():
        db.session.execute(update(Comment).where(Comment.id == comment_id).values(
            upvotes=Comment.upvotes - int(value == 1), downvotes=Comment.downvotes - int(value == -1),
            score=Comment.score - value))
    open_flags = db.session.execute(
        select(Flag.comment_id, func.count()).where(Flag.user_id == user.id, Flag.resolved_at.is_(None))
        .group_by(Flag.comment_id)).all()
    for comment_id, count in open_flags:
        db.session.execute(update(Comment).where(Comment.id == comment_id)
                           .values(open_flags=Comment.open_flags - count))
    # Their comments and the scores of the comments they voted on change: cached pages must go.
    commented = select(Comment.article_id).where(Comment.author_id == user.id)
    voted = select(Comment.article_id).join(Vote, Vote.comment_id == Comment.id).where(Vote.user_id == user.id)
    for article_id in sorted(db.session.scalars(union(commented, voted))):
        thread_changed(article_id)
    identity_bans.keep_ban(user)
    db.session.execute(update(Comment).where(Comment.author_id == user.id).values(author_id=None))
    db.session.execute(delete(Vote).where(Vote.user_id == user.id))
    db.session.execute(delete(Flag).where(Flag.user_id == user.id))
    db.session.delete(user)
    db.session.flush()
