"""What notification messages link to and how many may go out: the signed unsubscribe and moderator-action
links (over ``accounts.signed_links``), the links to a comment, the excerpts, and the hourly budget.

An unsubscribe token (purpose ``unsubscribe``, claims ``u`` and ``s``, the scope) never expires and may
be used again and again: acting on it twice changes nothing more. A moderator's action token (purpose
``moderate``, claims ``u``, ``c`` the comment, ``a`` the action) is valid 72 hours and used once.
"""
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import func, select

from ..accounts import signed_links
from ..accounts.signed_links import BadLink
from ..extensions import db
from ..models import Article
from ..timeutil import utcnow
from .mail import public_link
from .models import OutboxMessage

UNSUBSCRIBE, MODERATE = "unsubscribe", "moderate"
SCOPE_REPLIES, SCOPE_MODERATION, SCOPE_THREAD = "replies", "moderation", "thread:"
ACTION_VALID_FOR = timedelta(hours=72)
LINK_ACTIONS = ("approve", "reject")

# The messages that count toward NOTIFY_MAX_PER_HOUR (account e-mails never do).
CATEGORIES = ("reply", "reply_digest", "moderation", "moderation_digest")

EXCERPT_CHARS = 300

__all__ = ["BadLink"]


# -- unsubscribing ------------------------------------------------------------------------

def thread_scope(article_id: int) -> str:
    return f"{SCOPE_THREAD}{article_id}"


def unsubscribe_link(user, scope: str) -> str:
    """The absolute one-click link that stops ``scope`` for ``user`` (no login needed)."""
    token = signed_links.make(UNSUBSCRIBE, user.id, s=scope)
    return public_link("/unsubscribe", token=token, lang=user.language or "en")


def read_unsubscribe(token: str) -> tuple[int, str]:
    """(user id, scope) of a valid unsubscribe token; BadLink."""
    claims = signed_links.read(UNSUBSCRIBE, token, None)
    scope = claims.get("s")
    if scope in (SCOPE_REPLIES, SCOPE_MODERATION):
        return claims["u"], scope
    if isinstance(scope, str) and scope.startswith(SCOPE_THREAD) and scope[len(SCOPE_THREAD):].isdigit():
        return claims["u"], scope
    raise BadLink("unknown scope")


def thread_of(scope: str) -> int | None:
    """The article id of a thread scope, else None."""
    return int(scope[len(SCOPE_THREAD):]) if scope.startswith(SCOPE_THREAD) else None


# -- a moderator's approve and reject links -------------------------------------------------

@dataclass(frozen=True)
class ActionClaims:
    moderator_id: int
    comment_id: int
    action: str
    raw: dict


def action_link(moderator, comment_id: int, action: str) -> str:
    token = signed_links.make(MODERATE, moderator.id, c=comment_id, a=action)
    return public_link("/moderation/act", token=token, lang=moderator.language or "en")


def read_action(token: str) -> ActionClaims:
    """The claims of a valid (signed, younger than 72 hours) action token; BadLink."""
    claims = signed_links.read(MODERATE, token, ACTION_VALID_FOR)
    comment_id, action = claims.get("c"), claims.get("a")
    if not isinstance(comment_id, int) or action not in LINK_ACTIONS:
        raise BadLink("malformed")
    return ActionClaims(claims["u"], comment_id, action, claims)


def action_used(claims: ActionClaims) -> bool:
    return signed_links.is_used(claims.raw, MODERATE)


def use_action(claims: ActionClaims) -> None:
    """Record the action token as used, in the current transaction; BadLink the second time."""
    signed_links.use_once(claims.raw, MODERATE, ACTION_VALID_FOR)


# -- where a comment is, and what it says ---------------------------------------------------

def comment_link(article: Article, comment_id: int) -> str:
    """The comment on the publisher's page (``#comment-<id>``), or on the demo page without a URL."""
    if article.url:
        return f"{article.url.split('#')[0]}#comment-{comment_id}"
    return public_link(f"/demo/{article.key}") + f"#comment-{comment_id}"


def dashboard_link(article: Article | None = None, comment_id: int | None = None) -> str:
    """The moderator dashboard's pending queue (of one article), scrolled to one item."""
    query = {"queue": "pending"} | ({"article": article.key} if article is not None else {})
    return public_link("/moderation", **query) + (f"#item-{comment_id}" if comment_id else "")


def article_title(article: Article) -> str:
    return article.title or article.key


class _Text(HTMLParser):
    BLOCKS = {"p", "br", "li", "blockquote", "pre", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The text a reader sees in sanitized ``body_html``, paragraphs on their own lines."""
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def excerpt(html: str, limit: int = EXCERPT_CHARS) -> str:
    text = plain_text(html)
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def excerpt_html(html: str, limit: int = EXCERPT_CHARS) -> str | None:
    """The stored sanitized HTML when short enough to show whole; None: show the text excerpt."""
    return html if len(plain_text(html)) <= limit else None


# -- the hourly budget -----------------------------------------------------------------------

def sent_last_hour_many(user_ids) -> dict[int, int]:
    """Notification messages written for each of ``user_ids`` in the last hour, in one query (users
    with none are left out): what NOTIFY_MAX_PER_HOUR counts."""
    return dict(db.session.execute(
        select(OutboxMessage.recipient_id, func.count()).where(
            OutboxMessage.recipient_id.in_(list(user_ids)), OutboxMessage.category.in_(CATEGORIES),
            OutboxMessage.created_at > utcnow() - timedelta(hours=1))
        .group_by(OutboxMessage.recipient_id)).all())


def recent_count_subquery(user_column):
    """The same count, correlated with ``user_column`` (for the digests' one query)."""
    return (select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.recipient_id == user_column, OutboxMessage.category.in_(CATEGORIES),
                   OutboxMessage.created_at > utcnow() - timedelta(hours=1))
            .scalar_subquery())
