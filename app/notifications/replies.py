"""Reply notifications: a reader is told of an approved reply to their comment (``replies`` setting
instant or daily), and of every approved comment in a discussion they follow (their ``replies`` mode,
or instant when it is off). Never of their own words, never in a discussion they muted.

Each (reader, reply) is told once (a ``reply`` notice): a reply approved, sent back by flags and
approved again is not announced twice. ``instant`` mails it now while the reader's hourly budget
(NOTIFY_MAX_PER_HOUR) allows, else it waits for the next digest (``digests.py``), as ``daily`` does.
"""

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Comment, Status, User
from ..translations import translate
from . import events, links, mail, preferences
from .models import Notice, NotificationSettings, Subscription

PARENT, THREAD = "parent", "thread"  # why a reader is told: a reply to them, or a followed discussion


def on_events(batch: list, plan) -> None:
    """Plan telling the readers who want to know of each reply of ``batch`` ((event, comment) pairs)
    that is visible to everyone now. A handful of queries for the whole batch, whatever its size."""
    shown = {comment.id: comment for event, comment in batch
             if event.type in (events.COMMENT_CREATED, events.COMMENT_APPROVED)
             and comment is not None and comment.status == Status.APPROVED}
    if not shown:
        return
    wanted = _wanted(list(shown.values()))
    users = _users({user_id for per_comment in wanted.values() for user_id in per_comment})
    if not users:
        return
    articles = {comment.article_id for comment in shown.values()}
    muted = set(db.session.execute(select(Subscription.user_id, Subscription.article_id).where(
        Subscription.user_id.in_(users), Subscription.article_id.in_(articles), Subscription.subscribed.is_(False))))
    told = set(db.session.execute(select(Notice.user_id, Notice.comment_id).where(
        Notice.kind == preferences.REPLY, Notice.user_id.in_(users), Notice.comment_id.in_(shown))))
    recent = links.sent_last_hour_many(users)
    limit = current_app.config["NOTIFY_MAX_PER_HOUR"]
    for comment_id, per_comment in wanted.items():
        comment = shown[comment_id]
        for user_id, (mode, why) in per_comment.items():
            user = users.get(user_id)
            if user is None or (user_id, comment.article_id) in muted or (user_id, comment_id) in told:
                continue
            message = None
            if mode == "instant" and recent.get(user_id, 0) + plan.mails[user_id] < limit:
                message = ("reply", compose(user, comment, why))
                plan.mails[user_id] += 1
            plan.notice(user_id, preferences.REPLY, comment_id, comment.article_id, message)


def _wanted(comments: list[Comment]) -> dict[int, dict[int, tuple[str, str]]]:
    """Per comment, {user id: (mode, why)} of the readers who asked to know of it, its author left out."""
    parent_ids = {comment.parent_id for comment in comments if comment.parent_id is not None}
    parents = {row.id: row.author_id for row in db.session.execute(
        select(Comment.id, Comment.author_id).where(Comment.id.in_(parent_ids), Comment.status != Status.DELETED,
                                                    Comment.author_id.is_not(None)))} if parent_ids else {}
    modes = dict(db.session.execute(select(NotificationSettings.user_id, NotificationSettings.replies).where(
        NotificationSettings.user_id.in_(set(parents.values())),
        NotificationSettings.replies.in_(("instant", "daily")))).all()) if parents else {}
    followers: dict[int, list[tuple[int, str | None]]] = {}
    for article_id, user_id, mode in db.session.execute(
            select(Subscription.article_id, Subscription.user_id, NotificationSettings.replies)
            .outerjoin(NotificationSettings, NotificationSettings.user_id == Subscription.user_id)
            .where(Subscription.article_id.in_({c.article_id for c in comments}), Subscription.subscribed.is_(True))):
        followers.setdefault(article_id, []).append((user_id, mode))
    wanted = {}
    for comment in comments:
        per_comment: dict[int, tuple[str, str]] = {}
        parent_author = parents.get(comment.parent_id)
        if parent_author in modes:
            per_comment[parent_author] = (modes[parent_author], PARENT)
        for user_id, mode in followers.get(comment.article_id, ()):
            per_comment.setdefault(user_id, (mode if mode in ("instant", "daily") else "instant", THREAD))
        per_comment.pop(comment.author_id, None)
        if per_comment:
            wanted[comment.id] = per_comment
    return wanted


def _users(ids: set[int]) -> dict[int, User]:
    """The accounts that may be mailed, by id (gone, banned, without address: left out)."""
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))
            if preferences.reachable(user)}


def relevant(comment: Comment | None) -> bool:
    """Whether a waiting reply notice is still worth telling (the reply is still visible)."""
    return comment is not None and comment.status == Status.APPROVED


def item(comment: Comment, user: User) -> dict:
    """What a message shows of one reply."""
    author = comment.author
    return {
        "id": comment.id,
        "author": author.display_name if author is not None else "",
        "excerpt": links.excerpt(comment.body_html),
        "excerpt_html": links.excerpt_html(comment.body_html),
        "link": links.comment_link(comment.article, comment.id),
        "article_title": links.article_title(comment.article),
        "mine": comment.parent_id is not None and _parent_author(comment) == user.id,
    }


def _parent_author(comment: Comment) -> int | None:
    return db.session.scalar(select(Comment.author_id).where(Comment.id == comment.parent_id))


def compose(user: User, comment: Comment, why: str) -> dict:
    """The ``reply`` message to ``user`` about ``comment``."""
    title = links.article_title(comment.article)
    lang = user.language or "en"
    headline = translate(lang, f"notify.reply.headline.{why}", title=title)
    return mail.compose(
        "reply", to=user.email, language=lang,
        unsubscribe=links.unsubscribe_link(user, links.SCOPE_REPLIES),
        headline=headline, title=title, reply=item(comment, user), why=why,
        thread_unsubscribe=links.unsubscribe_link(user, links.thread_scope(comment.article_id)),
    )
