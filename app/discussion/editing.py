"""Editing and deleting comments, by their authors within the edit window or by moderators."""
from datetime import timedelta

from ..accounts.standing import refuse_banned
from ..database import writing
from ..errors import forbidden
from ..extensions import db
from ..models import Article, Comment, Status, User
from ..moderation import audit, decisions, rules
from ..moderation import settings as moderation_settings
from ..spam import filter as spam_filter
from ..timeutil import utcnow
from .lifecycle import change_status, thread_changed
from .posting import Limits, ensure_commentable, prepare_body
from .threads import find_visible

# Outcomes of the rules, from least to most restrictive: an edit never relaxes a decision.
_SEVERITY = {Status.APPROVED: 0, Status.PENDING: 1, Status.REJECTED: 2, Status.SPAM: 3}


def _within_window(comment: Comment, minutes: int) -> bool:
    return utcnow() - comment.created_at <= timedelta(minutes=minutes)


def _ensure_may_change(comment: Comment, user: User, what: str, settings: dict) -> None:
    if user.is_moderator:
        decisions.ensure_outranks_authors(user, [comment], what)
        return
    if comment.author_id != user.id:
        raise forbidden(f"You can only {what} your own comments.")
    window = settings["edit_window_minutes"]
    if not _within_window(comment, window):
        raise forbidden(f"Comments can be changed for {window} minutes only.")


@writing()
def edit_comment(comment_id: int, editor: User, raw_body: str, limits: Limits) -> Comment:
    refuse_banned(editor)
    comment = find_visible(comment_id, editor)
    settings = moderation_settings.effective_settings()
    _ensure_may_change(comment, editor, "edit", settings)
    article = db.session.get(Article, comment.article_id)
    ensure_commentable(article, editor)
    source, html, links, _key = prepare_body(raw_body, limits.max_length)
    previous = comment.body
    comment.body, comment.body_html, comment.edited_at = source, html, utcnow()
    thread_changed(comment.article_id)
    if comment.author_id != editor.id:  # someone else's words: the log keeps what they were
        audit.record_event("edit", actor=editor, comment=comment, user_id=comment.author_id,
                                from_status=comment.status, to_status=comment.status,
                                previous_body=previous)
    author = db.session.get(User, comment.author_id) if comment.author_id else editor
    if not editor.is_moderator:
        outcome = rules.evaluate(author, article, source, links, settings)
        outcome = spam_filter.judge(outcome, author, source, html, comment_id=comment.id)
        if outcome.spam_score is not None:
            comment.spam_score = outcome.spam_score
        current = Status(comment.status)
        if _SEVERITY.get(outcome.status, 0) > _SEVERITY.get(current, 0):
            old = change_status(comment, outcome.status)
            if outcome.status == Status.PENDING:
                comment.held_because = outcome.held_because
            audit.record_event(outcome.action or "hold", actor=None, comment=comment,
                                    user_id=comment.author_id, from_status=old,
                                    to_status=outcome.status, reason="; ".join(outcome.reasons))
    db.session.flush()
    return comment


@writing()
def delete_comment(comment_id: int, actor: User) -> None:
    """Delete a comment: it leaves the thread, or stays as a tombstone while it has shown replies."""
    refuse_banned(actor)
    comment = find_visible(comment_id, actor)
    _ensure_may_change(comment, actor, "delete", moderation_settings.effective_settings())
    old = change_status(comment, Status.DELETED)
    if actor.is_moderator and comment.author_id != actor.id:
        audit.record_event("delete", actor=actor, comment=comment, user_id=comment.author_id,
                                from_status=old, to_status=Status.DELETED)


