"""Editing and deleting comments, by their authors within the edit window or by moderators."""
from datetime import timedelta

from ..errors import ApiError
from ..extensions import db
from ..models import Article, Comment, Status, User
from ..moderation import audit, decisions, rules
from ..moderation import settings as moderation_settings
from ..timeutil import utcnow
from .lifecycle import change_status, touch_article
from .posting import Limits, ensure_can_write, prepare_body
from .threads import find_visible

# Outcomes of the rules, from least to most restrictive: an edit never relaxes a decision.
_SEVERITY = {Status.APPROVED: 0, Status.PENDING: 1, Status.REJECTED: 2}


def _within_window(comment: Comment, minutes: int) -> bool:
    return utcnow() - comment.created_at <= timedelta(minutes=minutes)


def _ensure_may_change(comment: Comment, user: User, what: str, settings: dict) -> None:
    if user.is_moderator:
        decisions.ensure_outranks_authors(user, [comment], what)
        return
    if comment.author_id != user.id:
        raise ApiError(403, "forbidden", f"You can only {what} your own comments.")
    window = settings["edit_window_minutes"]
    if not _within_window(comment, window):
        raise ApiError(403, "forbidden", f"Comments can be changed for {window} minutes only.")


def edit_comment(comment_id: int, editor: User, raw_body: str, limits: Limits) -> Comment:
    ensure_can_write(editor)
    comment = find_visible(comment_id, editor)
    settings = moderation_settings.effective_settings()
    _ensure_may_change(comment, editor, "edit", settings)
    article = db.session.get(Article, comment.article_id)
    if article.status == "closed" and not editor.is_moderator:
        raise ApiError(403, "article_closed", "Comments are closed on this article.")
    source, html, links = prepare_body(raw_body, limits.max_length)
    previous = comment.body
    comment.body, comment.body_html, comment.edited_at = source, html, utcnow()
    touch_article(comment.article_id)
    if comment.author_id != editor.id:  # someone else's words: the log keeps what they were
        audit.record_event("edit", actor=editor, comment=comment, user_id=comment.author_id,
                                from_status=comment.status, to_status=comment.status,
                                previous_body=previous)
    author = db.session.get(User, comment.author_id) if comment.author_id else editor
    if not editor.is_moderator:
        outcome = rules.evaluate(author, article, source, links, settings)
        current = Status(comment.status)
        if _SEVERITY.get(outcome.status, 0) > _SEVERITY.get(current, 0):
            old = change_status(comment, outcome.status)
            audit.record_event(outcome.action or "hold", actor=None, comment=comment,
                                    user_id=comment.author_id, from_status=old,
                                    to_status=outcome.status, reason="; ".join(outcome.reasons))
    db.session.flush()
    return comment


def delete_comment(comment_id: int, actor: User) -> None:
    """Delete a comment: it leaves the thread, or stays as a tombstone while it has shown replies."""
    ensure_can_write(actor)
    comment = find_visible(comment_id, actor)
    _ensure_may_change(comment, actor, "delete", moderation_settings.effective_settings())
    old = change_status(comment, Status.DELETED)
    if actor.is_moderator and comment.author_id != actor.id:
        audit.record_event("delete", actor=actor, comment=comment, user_id=comment.author_id,
                                from_status=old, to_status=Status.DELETED)


