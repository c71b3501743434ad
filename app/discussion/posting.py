"""Posting a comment: check and render outside the write lock, then store it with its counters
and the rules' decision. The server computes author, status, depth, root and counts; the
client only ever sends a body (and, for a reply, the parent's id)."""
from dataclasses import dataclass
from typing import NamedTuple

from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.standing import refuse_banned
from ..database import RowLoader, writing
from ..errors import ApiError, conflict, not_found, validation_error
from ..extensions import db
from ..models import Article, ArticleStatus, Comment, Status, User
from ..moderation import audit, rules, settings
from ..spam import filter as spam_filter
from ..text import clean_multiline
from ..timeutil import utcnow
from . import articles, lifecycle, storing
from .sanitize import RenderError, is_blank_text, key_of_text, render_stored, shown_text


@dataclass(frozen=True)
class Limits:
    max_length: int
    max_depth: int


def ensure_commentable(article: Article, user: User) -> None:
    """403 ``article_closed`` when ``user`` may not write on ``article``: closed, and not staff."""
    if article.status == ArticleStatus.CLOSED and not user.is_moderator:
        raise ApiError(403, "article_closed", "Comments are closed on this article.")


class PreparedBody(NamedTuple):
    source: str  # the cleaned Markdown source
    html: str  # its sanitized HTML
    links: int  # its number of links (the max_links rule)
    text_key: str  # sanitize.text_key(html), for the duplicate check


def prepare_body(raw: str, max_length: int) -> PreparedBody:
    """A new body, cleaned, rendered and keyed; 422 when empty or too long."""
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
    text = shown_text(html)
    if is_blank_text(text):
        raise validation_error({"body": "must contain visible text"})
    return PreparedBody(source, html, links, key_of_text(text))


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
    refuse_banned(author)
    if (current_app.config["REQUIRE_VERIFIED_EMAIL"] and not author.email_verified
            and not author.is_moderator):
        raise ApiError(403, "email_unverified", "Confirm your e-mail address before you post: "
                                                "open the link we mailed you (or ask for a new one).")
    ensure_commentable(article, author)
    source, html, links, key = prepare_body(raw_body, limits.max_length)

    parent = None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id) if article.id is not None else None
        if (parent is None or parent.article_id != article.id
                or parent.status == Status.DELETED
                or not _readable(parent, author)):
            raise not_found("The comment you reply to does not exist.")
        if parent.depth + 1 > limits.max_depth:
            raise validation_error({"parent_id": f"replies nest at most {limits.max_depth} levels deep"})
    outcome = judge(author, article, source, html, links)
    return Draft(source, html, links, parent, outcome, key)


def judge(author: User, article: Article, source: str, html: str, links: int) -> rules.Outcome:
    """The moderation rules' decision, then the spam filter's; their settings are read together when
    the filter judges this author (one query)."""
    if not spam_filter.applies_to(author):
        return rules.evaluate(author, article, source, links, settings.effective_settings())
    reading = spam_filter.read(author)
    outcome = rules.evaluate(author, article, source, links, settings.settings_from(reading.moderation))
    return spam_filter.judge(outcome, author, source, html, reading=reading)


def save_post(article: Article, author: User, draft: Draft) -> Comment:
    """Store a checked comment: duplicate check, counters, moderation event (saves a new article too).

    Takes the write lock; its statements run as Core (``run``), so the lock is held for as little
    as the statements themselves.
    """
    with writing():
        return _store(article, author, draft)


def _store(article: Article, author: User, draft: Draft) -> Comment:
    if article.id is None:
        article = articles.save_new_article(article)
    # A double click: the same text sent twice at once. The second waits for the first, then finds it.
    storing.take_turn_with_same_text(author.id, draft.text_key)
    outcome, parent = draft.outcome, draft.parent
    now = utcnow()
    values = dict(
        article_id=article.id, author_id=author.id, body=draft.source, body_html=draft.html,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        status=outcome.status, created_at=now, decided_at=now, edited_at=None,
        pinned=False, score=0, upvotes=0, downvotes=0, open_flags=0, shown_replies=0,
        text_key=draft.text_key,
        spam_score=outcome.spam_score,
        held_because=outcome.held_because if outcome.status == Status.PENDING else None,
    )
    decision = None
    if outcome.action:
        decision = storing.Audit(outcome.action, str(outcome.status), audit.stored_reason("; ".join(outcome.reasons)))
    comment_id = storing.store(values, decision)
    if comment_id is None:
        raise conflict("You have just posted the same comment.")
    # The stored row, handed to the ORM as if just loaded: persistent, with nothing left to flush.
    comment = _COMMENTS.load_mapping({"id": comment_id, **values})
    set_committed_value(comment, "author", author)
    lifecycle.forget_counts(article.id)
    return comment


def post_comment(article: Article, author: User, raw_body: str, limits: Limits,
                 parent_id: int | None = None) -> Comment:
    """``check_post`` then ``save_post`` in the caller's transaction."""
    return save_post(article, author, check_post(article, author, raw_body, limits, parent_id))


_COMMENTS = RowLoader(Comment)


def _readable(comment: Comment, user: User) -> bool:
    from .visibility import is_visible
    return is_visible(comment.status, comment.author_id, user)
