"""Moderator notifications, and the approve and reject links they carry.

When a comment waits for review (posted pending, held by the rules on an edit, sent back by flags),
every moderator and admin with ``moderation`` on is told, except its author and those who could not
decide on it (a moderator never acts on another moderator's or an admin's words). Each hold is told
once per moderator: the ``moderation`` notice of (moderator, comment) is reused by a later hold,
its ``created_at`` and ``mailed_at`` reset. ``instant`` mails it now within the hourly budget;
``hourly`` waits for the digest (``digests.py``).

The links open a confirmation page (GET never acts); its POST decides through
``moderation.decisions``, like the dashboard, so the audit log names the moderator.
"""
from dataclasses import dataclass
from functools import partial

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Comment, ModerationEvent, Role, Status, User, rank_of
from ..moderation import decisions
from ..timeutil import utcnow
from . import events, links, mail, preferences
from .models import Notice, NotificationSettings

HOLD_EVENTS = (events.COMMENT_CREATED, events.COMMENT_HELD)


def on_events(batch: list, plan) -> None:
    """Plan telling the moderators who want to know that each comment of ``batch`` ((event, comment)
    pairs) held for review waits now. A few queries for the whole batch (a spam wave holds many)."""
    held = {comment.id: comment for event, comment in batch
            if event.type in HOLD_EVENTS and comment is not None and comment.status == Status.PENDING}
    if not held:
        return
    staff = _staff()
    if not staff:
        return
    earlier = {(row.user_id, row.comment_id): row for row in db.session.execute(
        select(Notice.id, Notice.user_id, Notice.comment_id, Notice.created_at).where(
            Notice.kind == preferences.MODERATION, Notice.comment_id.in_(held),
            Notice.user_id.in_([moderator.id for moderator, _ in staff])))}
    recent = links.sent_last_hour_many([moderator.id for moderator, _ in staff])
    limit = current_app.config["NOTIFY_MAX_PER_HOUR"]
    for comment in held.values():
        for moderator, mode in staff:
            if not may_be_told(moderator, comment):
                continue
            row = earlier.get((moderator.id, comment.id))
            if row is not None and row.created_at >= comment.decided_at:
                continue  # this very hold was told already
            message = None
            if mode == "instant" and recent.get(moderator.id, 0) + plan.mails[moderator.id] < limit:
                message = ("moderation", compose(moderator, comment))
                plan.mails[moderator.id] += 1
            if row is None:
                plan.notice(moderator.id, preferences.MODERATION, comment.id, comment.article_id, message)
            else:  # an earlier hold's notice, told again for this one
                plan.add(partial(_record, moderator.id, comment.id, comment.article_id, row.id,
                                 message[1] if message else None))


def _record(user_id: int, comment_id: int, article_id: int, known: int, payload: dict | None) -> None:
    """Under the write lock: an earlier hold's notice reset for this hold, and the message when it is
    told at once."""
    now = utcnow()
    written = db.session.execute(
        update(Notice).where(Notice.id == known).values(created_at=now, mailed_at=now if payload else None),
        execution_options={"synchronize_session": False}).rowcount == 1
    if written and payload is not None:
        mail.queue("moderation", payload, user_id)


def _staff() -> list[tuple[User, str]]:
    """Moderators and admins with moderation messages on, and their mode."""
    return [(user, mode) for user, mode in db.session.execute(
        select(User, NotificationSettings.moderation)
        .join(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(User.role.in_((Role.MODERATOR, Role.ADMIN)),
               NotificationSettings.moderation.in_(("instant", "hourly")))
        .order_by(User.id)).all()]


def may_act(moderator: User, comment: Comment) -> bool:
    """``decisions.ensure_outranks_authors``'s rule: their own words, or an author of a lower rank."""
    author = comment.author
    return author is None or author.id == moderator.id or rank_of(author.role) < moderator.rank


def may_be_told(moderator: User | None, comment: Comment) -> bool:
    return (moderator is not None and moderator.is_moderator and preferences.reachable(moderator)
            and moderator.id != comment.author_id and may_act(moderator, comment))


def hold_reasons(comment_id: int) -> list[str]:
    """Why the comment waits: the reasons of the latest audit entry that made it pending."""
    reason = db.session.scalar(
        select(ModerationEvent.reason)
        .where(ModerationEvent.comment_id == comment_id, ModerationEvent.to_status == Status.PENDING)
        .order_by(ModerationEvent.id.desc()).limit(1))
    return [part for part in (reason or "").split("; ") if part]


def item(comment: Comment) -> dict:
    """What a message or a page shows of a held comment."""
    return {
        "id": comment.id,
        "author": comment.author.display_name if comment.author is not None else "",
        "username": comment.author.username if comment.author is not None else "",
        "excerpt": links.excerpt(comment.body_html),
        "excerpt_html": links.excerpt_html(comment.body_html),
        "article_title": links.article_title(comment.article),
        "reasons": hold_reasons(comment.id),
        "dashboard": links.dashboard_link(comment.article, comment.id),
    }


def compose(moderator: User, comment: Comment) -> dict:
    return mail.compose(
        "moderation", to=moderator.email, language=moderator.language or "en",
        unsubscribe=links.unsubscribe_link(moderator, links.SCOPE_MODERATION),
        title=links.article_title(comment.article), comment=item(comment),
        approve_link=links.action_link(moderator, comment.id, "approve"),
        reject_link=links.action_link(moderator, comment.id, "reject"),
    )


# -- acting through a link ------------------------------------------------------------------

class NotPending(Exception):
    """The comment was decided meanwhile: the link has nothing left to do."""

    def __init__(self, link: "LinkAction"):
        super().__init__(link.comment.status)
        self.link = link


@dataclass
class LinkAction:
    moderator: User
    comment: Comment
    action: str
    claims: links.ActionClaims
    shown: dict  # item(comment), read before acting: what the pages show


def check_link(token: str, pending: bool = True) -> LinkAction:
    """The valid action link ``token``, its moderator still staff, not banned and allowed to act on its
    comment; BadLink otherwise. ``pending`` (the page): BadLink when used already, NotPending when the
    comment no longer waits. Reads only."""
    claims = links.read_action(token)
    moderator = db.session.get(User, claims.moderator_id)
    if moderator is None or not moderator.is_moderator or moderator.is_banned():
        raise links.BadLink("not a moderator any more")
    comment = db.session.scalar(select(Comment).where(Comment.id == claims.comment_id)
                                .options(joinedload(Comment.article), joinedload(Comment.author)))
    if comment is None or not may_act(moderator, comment):
        raise links.BadLink("no such comment, or not for this moderator")
    if pending and links.action_used(claims):
        raise links.BadLink("used")
    link = LinkAction(moderator, comment, claims.action, claims, item(comment))
    if pending and comment.status != Status.PENDING:
        raise NotPending(link)
    return link


def act(token: str) -> LinkAction:
    """Make the link's decision, once: BadLink (a used link too), NotPending (decided meanwhile:
    nothing done, the link stays unused)."""
    link = check_link(token, pending=False)
    link.comment = decisions.find_for_decision(link.comment.id)  # locks it (and takes the write lock)
    links.use_action(link.claims)
    if link.comment.status != Status.PENDING:
        raise NotPending(link)
    decisions.decide(link.comment, link.action, link.moderator)
    return link
