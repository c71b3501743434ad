"""Writing comments: post, edit, delete, vote, flag. Plain functions that flush, never commit.

The server computes author, status, depth, root and counts; the client only
ever sends a body (and, for a reply, the parent's id).
"""
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from . import articles, moderation, rules
from .errors import ApiError, not_found, validation_error
from .extensions import db
from .lifecycle import change_status, touch_article
from .models import Article, Comment, Flag, Status, User, Vote
from .sanitize import RenderError, is_blank, render_stored, text_key
from .threads import find_visible
from .timeutil import utcnow
from .validation import clean_multiline

DUPLICATE_WINDOW = timedelta(minutes=1)
# Outcomes of the rules, from least to most restrictive: an edit never relaxes a decision.
_SEVERITY = {Status.APPROVED: 0, Status.PENDING: 1, Status.REJECTED: 2}


@dataclass(frozen=True)
class Limits:
    max_length: int
    max_depth: int


def ensure_can_write(user: User) -> None:
    if user.is_banned():
        raise ApiError(403, "banned", "Your account is suspended.")


def prepare_body(raw: str, max_length: int) -> tuple[str, str, int]:
    """The cleaned Markdown source, its sanitized HTML and its number of links; 422 when empty or too long."""
    try:
        source = clean_multiline(raw)
    except ValueError as exc:
        raise validation_error({"body": str(exc)}) from None
    source = source.strip()
    if not source:
        raise validation_error({"body": "must not be empty"})
    if len(source) > max_length:
        raise validation_error({"body": f"must be at most {max_length} characters"})
    try:
        html, links = render_stored(source)
    except RenderError:
        raise validation_error({"body": "cannot be rendered; simplify its formatting"}) from None
    if is_blank(html):
        raise validation_error({"body": "must contain visible text"})
    return source, html, links


class Draft(NamedTuple):
    """A new comment that passed every check needing no lock (``check_post``)."""
    source: str
    html: str
    links: int
    parent: Comment | None
    outcome: rules.Outcome
    text_key: str  # sanitize.text_key(html), for the duplicate check


def check_post(article: Article, author: User, raw_body: str, limits: Limits,
               parent_id: int | None = None) -> Draft:
    """Check, render and judge (moderation rules) a new comment; only reads, so callers run it
    outside the write lock."""
    ensure_can_write(author)
    if article.status == "closed" and not author.is_moderator:
        raise ApiError(403, "article_closed", "Comments are closed on this article.")
    source, html, links = prepare_body(raw_body, limits.max_length)

    parent = None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id) if article.id is not None else None
        if (parent is None or parent.article_id != article.id
                or parent.status == Status.DELETED
                or not _readable(parent, author)):
            raise not_found("The comment you reply to does not exist.")
        if parent.depth + 1 > limits.max_depth:
            raise validation_error({"parent_id": f"replies nest at most {limits.max_depth} levels deep"})
    outcome = rules.evaluate(author, article, source, links, rules.effective_settings())
    return Draft(source, html, links, parent, outcome, text_key(html))


def save_post(article: Article, author: User, draft: Draft) -> Comment:
    """Store a checked comment: duplicate check, counters, moderation event (saves a new article too).

    Runs under the write lock, so its statements are Core ones on the session's connection (the
    ORM's bookkeeping per statement would cost more than the statement and hold the lock longer).
    """
    if article.id is None:
        article = articles.save_new_article(article)
    connection = db.session.connection()
    # One post at a time per author (a double click): the author's row is the lock.
    connection.execute(_LOCK_AUTHOR, {"author_id": author.id})
    outcome, parent = draft.outcome, draft.parent
    if _is_duplicate(connection, author, article, parent, draft.text_key):
        raise ApiError(409, "conflict", "You have just posted the same comment.")
    now = utcnow()
    values = dict(
        article_id=article.id, author_id=author.id, body=draft.source, body_html=draft.html,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        status=outcome.status, created_at=now, decided_at=now, edited_at=None,
        pinned=False, score=0, upvotes=0, downvotes=0, open_flags=0, text_key=draft.text_key,
    )
    comment = Comment(id=connection.execute(_INSERT_COMMENT, values).inserted_primary_key[0],
                      author=author, **values)
    # The stored row, handed to the ORM as if just loaded: persistent, with nothing left to flush.
    make_transient_to_detached(comment)
    db.session.add(comment)
    touch_article(article.id, comments=1 if outcome.status == Status.APPROVED else 0)
    if outcome.action:
        moderation.record_event(outcome.action, actor=None, comment=comment, user_id=author.id,
                                from_status=None, to_status=outcome.status,
                                reason="; ".join(outcome.reasons))
    return comment


def post_comment(article: Article, author: User, raw_body: str, limits: Limits,
                 parent_id: int | None = None) -> Comment:
    """``check_post`` then ``save_post`` in the caller's transaction."""
    return save_post(article, author, check_post(article, author, raw_body, limits, parent_id))


def _readable(comment: Comment, user: User) -> bool:
    from .visibility import is_visible
    return is_visible(comment.status, comment.author_id, user)


# Statements of every post, built once (building a select costs more than running it on SQLite).
_LOCK_AUTHOR = select(User.id).where(User.id == bindparam("author_id")).with_for_update()
_INSERT_COMMENT = insert(Comment)
# A comment by the same author with the same text in the last minute, under the same parent of the
# same article (NULL parent: top level): the index ix_comments_author_text finds it directly.
_SAME_TEXT = select(Comment.id).where(
    Comment.author_id == bindparam("author_id"), Comment.text_key == bindparam("text_key"),
    Comment.created_at > bindparam("since"), Comment.article_id == bindparam("article_id"),
    Comment.parent_id.is_not_distinct_from(bindparam("parent_id", type_=Comment.parent_id.type)),
).limit(1)


def _is_duplicate(connection, author: User, article: Article, parent: Comment | None,
                  key: str) -> bool:
    """The same visible text (``sanitize.text_key``) posted by ``author`` at the same place of the
    thread within the last minute."""
    return connection.execute(_SAME_TEXT, {
        "author_id": author.id, "text_key": key, "since": utcnow() - DUPLICATE_WINDOW,
        "article_id": article.id, "parent_id": parent.id if parent else None}).first() is not None


def _within_window(comment: Comment, minutes: int) -> bool:
    return utcnow() - comment.created_at <= timedelta(minutes=minutes)


def _ensure_may_change(comment: Comment, user: User, what: str, settings: dict) -> None:
    if user.is_moderator:
        moderation.ensure_outranks_authors(user, [comment], what)
        return
    if comment.author_id != user.id:
        raise ApiError(403, "forbidden", f"You can only {what} your own comments.")
    window = settings["edit_window_minutes"]
    if not _within_window(comment, window):
        raise ApiError(403, "forbidden", f"Comments can be changed for {window} minutes only.")


def edit_comment(comment_id: int, editor: User, raw_body: str, limits: Limits) -> Comment:
    ensure_can_write(editor)
    comment = find_visible(comment_id, editor)
    settings = rules.effective_settings()
    _ensure_may_change(comment, editor, "edit", settings)
    article = db.session.get(Article, comment.article_id)
    if article.status == "closed" and not editor.is_moderator:
        raise ApiError(403, "article_closed", "Comments are closed on this article.")
    source, html, links = prepare_body(raw_body, limits.max_length)
    previous = comment.body
    comment.body, comment.body_html, comment.edited_at = source, html, utcnow()
    touch_article(comment.article_id)
    if comment.author_id != editor.id:  # someone else's words: the log keeps what they were
        moderation.record_event("edit", actor=editor, comment=comment, user_id=comment.author_id,
                                from_status=comment.status, to_status=comment.status,
                                previous_body=previous)
    author = db.session.get(User, comment.author_id) if comment.author_id else editor
    if not editor.is_moderator:
        outcome = rules.evaluate(author, article, source, links, settings)
        current = Status(comment.status)
        if _SEVERITY.get(outcome.status, 0) > _SEVERITY.get(current, 0):
            old = change_status(comment, outcome.status)
            moderation.record_event(outcome.action or "hold", actor=None, comment=comment,
                                    user_id=comment.author_id, from_status=old,
                                    to_status=outcome.status, reason="; ".join(outcome.reasons))
    db.session.flush()
    return comment


def delete_comment(comment_id: int, actor: User) -> None:
    """Delete a comment: it leaves the thread, or stays as a tombstone while it has shown replies."""
    ensure_can_write(actor)
    comment = find_visible(comment_id, actor)
    _ensure_may_change(comment, actor, "delete", rules.effective_settings())
    old = change_status(comment, Status.DELETED)
    if actor.is_moderator and comment.author_id != actor.id:
        moderation.record_event("delete", actor=actor, comment=comment, user_id=comment.author_id,
                                from_status=old, to_status=Status.DELETED)


def vote(comment_id: int, voter: User, value: int) -> dict:
    """Set ``voter``'s vote to -1, 0 (withdraw) or 1; counters move in SQL by the difference."""
    ensure_can_write(voter)
    comment = find_visible(comment_id, voter)
    if comment.author_id == voter.id:
        raise ApiError(403, "forbidden", "You cannot vote on your own comment.")
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
            raise ApiError(409, "conflict", "Your vote is being recorded already; try again.") from None
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
    touch_article(comment.article_id)
    db.session.flush()
    return _vote_state(comment.id, value)


def _vote_state(comment_id: int, my_vote: int) -> dict:
    row = db.session.execute(
        select(Comment.score, Comment.upvotes, Comment.downvotes)
        .where(Comment.id == comment_id).execution_options(populate_existing=True)
    ).one()
    return {"score": row.score, "upvotes": row.upvotes, "downvotes": row.downvotes, "my_vote": my_vote}


def flag(comment_id: int, reporter: User, reason: str, note: str | None) -> Flag:
    """Record a reader's report; enough distinct reporters with history send an approved comment
    back to pending, unless staff wrote it (``rules.reached_flag_threshold``)."""
    ensure_can_write(reporter)
    comment = find_visible(comment_id, reporter)
    report = Flag(comment_id=comment.id, user_id=reporter.id, reason=reason, note=note or None)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise ApiError(409, "conflict", "You have already flagged this comment.") from None
    db.session.execute(update(Comment).where(Comment.id == comment.id)
                       .values(open_flags=Comment.open_flags + 1))
    db.session.refresh(comment)
    settings = rules.effective_settings()
    if comment.status == Status.APPROVED and rules.reached_flag_threshold(comment, settings):
        moderation.hold_for_flags(comment)
    return report
