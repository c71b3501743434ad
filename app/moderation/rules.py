"""The automatic moderation rules, run on every post and edit by a reader.

The caller (``discussion/posting.py``) answers ``403 banned`` for a banned author and
``403 article_closed`` for a closed article before the rules run. Then
``evaluate`` applies, in this order:

1. Moderators and admins are exempt from everything below: approved.
2. A word of ``banned_words`` -> rejected (nothing else is checked).
3. Pre-moderation: the article's own ``moderation`` wins -- ``pre`` holds
   every comment, ``post`` holds none; ``inherit`` follows the setting:
   ``all`` holds every comment, ``new_users`` those of authors with fewer
   than ``trusted_after`` approved comments or an unverified e-mail address.
4. More than ``max_links`` links -> pending.
5. A word of ``suspect_words`` -> pending.

A held comment carries every reason of steps 3-5 that applies. A rejected
one carries the banned word it used.

Flags (``reached_flag_threshold``) send an approved comment back to pending
once ``flag_threshold`` readers flagged it, counting, with FLAGS_NEED_HISTORY,
only accounts at least FLAG_HISTORY_HOURS old; comments by moderators and
admins are never held by flags. Every flag is stored and shown to moderators.

Word matching (banned and suspect words) is in ``words.py``.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    ArticleModeration,
    Comment,
    Flag,
    Premoderation,
    Status,
    User,
    is_staff_role,
)
from ..timeutil import utcnow
from .words import find_word

# What a comment's author is told of why it waits (``held_because``): never the words or the score.
HELD_BECAUSE = ("premoderation", "new_user", "links", "suspect_word", "spam_filter", "flags", "moderator")


@dataclass
class Outcome:
    status: str = Status.APPROVED.value
    action: str | None = None  # the audit-log action: None (approved), "hold", "reject" or "spam"
    reasons: list[str] = field(default_factory=list)
    held_because: str | None = None  # the first reason's cause (HELD_BECAUSE) when held
    spam_score: float | None = None  # the spam filter's score (spam/filter.py); None: not scored


def approved_count(author: User) -> int:
    return db.session.scalar(
        select(func.count(Comment.id)).where(Comment.author_id == author.id,
                                             Comment.status == Status.APPROVED)
    ) or 0


def _premoderation_reason(author: User, article, settings: dict) -> str | None:
    if article.moderation == ArticleModeration.PRE:
        return "this article is pre-moderated"
    if article.moderation == ArticleModeration.POST:
        return None
    mode = settings["premoderation"]
    if mode == Premoderation.ALL:
        return "every comment is pre-moderated"
    if mode == Premoderation.NEW_USERS and settings["trusted_after"] > 0:
        if not author.email_verified:  # counts as new however many comments were approved
            return "new user: unverified e-mail address"
        approved = approved_count(author)
        if approved < settings["trusted_after"]:
            return (f"new user: {approved} approved comment(s), "
                    f"{settings['trusted_after']} needed to skip pre-moderation")
    return None


def evaluate(author: User, article, source: str, link_count: int, settings: dict) -> Outcome:
    """What the rules decide for a comment by ``author`` on ``article`` (see the module's order)."""
    if author.is_moderator:
        return Outcome()
    banned = find_word(settings["banned_words"], source)
    if banned is not None:
        return Outcome(Status.REJECTED.value, "reject", [f'banned word "{banned}"'])
    reasons, causes = [], []
    premoderation = _premoderation_reason(author, article, settings)
    if premoderation:
        reasons.append(premoderation)
        causes.append("new_user" if premoderation.startswith("new user") else "premoderation")
    if link_count > settings["max_links"]:
        reasons.append(f"{link_count} links (at most {settings['max_links']} allowed)")
        causes.append("links")
    suspect = find_word(settings["suspect_words"], source)
    if suspect is not None:
        reasons.append(f'suspect word "{suspect}"')
        causes.append("suspect_word")
    if reasons:
        return Outcome(Status.PENDING.value, "hold", reasons, causes[0])
    return Outcome()


def open_flaggers(comment_id: int, with_history: bool = False) -> int:
    """Distinct users with an unresolved flag on the comment (only those with history, when asked)."""
    query = (select(func.count(func.distinct(Flag.user_id)))
             .where(Flag.comment_id == comment_id, Flag.resolved_at.is_(None)))
    if with_history:
        query = query.join(User, User.id == Flag.user_id).where(User.created_at <= history_cutoff())
    return db.session.scalar(query) or 0


def history_cutoff() -> datetime:
    """Accounts created before this have history: their flags count toward the flag threshold."""
    return utcnow() - timedelta(hours=current_app.config["FLAG_HISTORY_HOURS"])


def counted_flaggers(comment_id: int) -> int:
    """The flaggers that count toward ``flag_threshold``: with FLAGS_NEED_HISTORY, accounts old
    enough that nobody can register a handful on the spot to take a comment down."""
    return open_flaggers(comment_id, with_history=current_app.config["FLAGS_NEED_HISTORY"])


def is_by_staff(comment: Comment) -> bool:
    if comment.author_id is None:
        return False
    role = db.session.scalar(select(User.role).where(User.id == comment.author_id))
    return role is not None and is_staff_role(role)


def reached_flag_threshold(comment: Comment, settings: dict) -> bool:
    """Whether flags send ``comment`` back to pending: never a moderator's or an admin's (their
    notices would be anyone's to hide), else once enough counted flaggers reported it."""
    if is_by_staff(comment):
        return False
    return counted_flaggers(comment.id) >= settings["flag_threshold"]


