"""Digests: the notices not mailed at once, gathered into one message per user when it is due.

Replies: ``daily`` readers get one digest after each DIGEST_HOUR (UTC) o'clock, of what was waiting
from before it, unless they got one since; ``instant`` readers over their hourly budget get what waited as one digest
as soon as the budget allows again. Moderation: ``hourly`` moderators get one digest per clock hour
(how many comments still wait, per article); ``instant`` ones' overflow likewise. Every digest
counts as one message toward NOTIFY_MAX_PER_HOUR.

``send_due`` runs on every pass of the worker: when nothing is due it costs one indexed query.
Notices no longer worth telling (a reply hidden since, a comment decided since, a moderator who
turned messages off or lost the role) are marked mailed without a message.
"""
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from ..database import writing
from ..extensions import db
from ..models import Comment, User
from ..timeutil import utcnow
from . import links, mail, moderators, preferences, replies
from .models import Notice, NotificationSettings

MAX_USERS_PER_PASS = 200


def daily_boundary(now: datetime, hour: int) -> datetime:
    """The latest DIGEST_HOUR o'clock (UTC) at or before ``now``."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def hour_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _due(now: datetime):
    """(user_id, kind) of every due digest (or notices to drop), in one query."""
    config = current_app.config
    settings = NotificationSettings
    replies_mode = func.coalesce(settings.replies, "off")
    moderation_mode = func.coalesce(settings.moderation, "off")
    # What waits, per (user, kind), first: the conditions (and the hourly count) then run per group,
    # not per notice, however many notices pile up for a reader over their budget.
    waiting = (select(Notice.user_id, Notice.kind, func.min(Notice.created_at).label("oldest"))
               .where(Notice.mailed_at.is_(None)).group_by(Notice.user_id, Notice.kind).subquery())
    room = links.recent_count_subquery(waiting.c.user_id) < config["NOTIFY_MAX_PER_HOUR"]
    boundary = daily_boundary(now, config["DIGEST_HOUR"])
    reply, moderation = waiting.c.kind == preferences.REPLY, waiting.c.kind == preferences.MODERATION
    due = or_(
        # Daily: once a day, after DIGEST_HOUR, with what came before it (the first reply waits too).
        and_(reply, replies_mode == "daily", room, waiting.c.oldest < boundary,
             or_(settings.replies_digest_at.is_(None), settings.replies_digest_at < boundary)),
        and_(reply, replies_mode != "daily", room),  # instant (or followed with replies off): overflow
        and_(moderation, moderation_mode == "hourly", room,
             or_(settings.moderation_digest_at.is_(None), settings.moderation_digest_at < hour_start(now))),
        and_(moderation, moderation_mode == "instant", room),
        and_(moderation, moderation_mode == "off"),
    )
    return db.session.execute(
        select(waiting.c.user_id, waiting.c.kind).outerjoin(settings, settings.user_id == waiting.c.user_id)
        .where(due).order_by(waiting.c.user_id, waiting.c.kind).limit(MAX_USERS_PER_PASS)).all()


def send_due() -> int:
    """Write every digest whose time has come; returns how many users' notices were settled."""
    now = utcnow()
    due = _due(now)
    if not due:
        return 0
    done = 0
    with writing():
        for user_id, kind in due:
            done += _settle(user_id, kind, now)
    db.session.commit()
    return done


def _settle(user_id: int, kind: str, now: datetime) -> int:
    """Send ``user_id``'s digest of ``kind`` (or drop what is no longer worth telling); 1 when done."""
    settings = preferences.locked_settings(user_id, skip_locked=True)
    if settings is None:
        return 0  # another worker is writing this user's digest
    notices = list(db.session.scalars(
        select(Notice).where(Notice.user_id == user_id, Notice.kind == kind, Notice.mailed_at.is_(None))
        .order_by(Notice.id)))
    if not notices:
        return 0
    user = db.session.get(User, user_id)
    comments = {comment.id: comment for comment in db.session.scalars(
        select(Comment).where(Comment.id.in_([n.comment_id for n in notices]))
        .options(joinedload(Comment.article), joinedload(Comment.author)))}
    for notice in notices:
        notice.mailed_at = now
    if kind == preferences.REPLY:
        wanted = [comments[n.comment_id] for n in notices if replies.relevant(comments.get(n.comment_id))]
        muted = preferences.muted_articles(user_id)
        wanted = [c for c in wanted if c.article_id not in muted]
        if wanted and preferences.reachable(user):
            mail.queue("reply_digest", _reply_digest(user, wanted), user_id)
            settings.replies_digest_at = now
    else:
        wanted = [comments[n.comment_id] for n in notices
                  if n.comment_id in comments and comments[n.comment_id].status == "pending"
                  and moderators.may_be_told(user, comments[n.comment_id])]
        if wanted and settings.moderation != "off":
            mail.queue("moderation_digest", _moderation_digest(user, wanted), user_id)
            settings.moderation_digest_at = now
    db.session.flush()
    return 1


def _reply_digest(user: User, comments: list[Comment]) -> dict:
    items = [replies.item(comment, user) for comment in comments]
    return mail.compose("reply_digest", to=user.email, language=user.language or "en",
                        unsubscribe=links.unsubscribe_link(user, links.SCOPE_REPLIES),
                        count=len(items), items=items)


def _moderation_digest(user: User, comments: list[Comment]) -> dict:
    per_article: dict[int, dict] = {}
    counts: dict[int, int] = defaultdict(int)
    for comment in comments:
        counts[comment.article_id] += 1
        per_article.setdefault(comment.article_id, {
            "title": links.article_title(comment.article),
            "link": links.dashboard_link(comment.article)})
    articles = [{**per_article[article_id], "count": counts[article_id]} for article_id in per_article]
    return mail.compose("moderation_digest", to=user.email, language=user.language or "en",
                        unsubscribe=links.unsubscribe_link(user, links.SCOPE_MODERATION),
                        count=len(comments), articles=articles, queue_link=links.dashboard_link())
