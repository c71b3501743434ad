"""The tables of Causerie. No request code here.

Threads are stored as an adjacency list with two columns fixed at insert:
``root_id`` (the top-level comment a reply belongs to, NULL for a top-level
comment) and ``depth``. Reading a page of a thread is then one query for the
page of top-level comments and one ``WHERE root_id IN (...)`` for everything
under them, whatever the depth, so the number of queries per request is
constant; the tree is assembled in Python in O(n) (see ``discussion/tree.py``).
Nested sets or closure tables would make inserts expensive; recursive CTEs
would make every read recursive in the database.
"""
from datetime import datetime, timezone
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship, validates

from .accounts.names import skeleton
from .discussion.sanitize import text_key
from .extensions import db
from .timeutil import UTCDateTime, utcnow

# A permanent ban is stored as a ban until the end of time.
FOREVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


class Role(StrEnum):
    READER = "reader"
    MODERATOR = "moderator"
    ADMIN = "admin"


ROLE_RANK = {Role.READER: 0, Role.MODERATOR: 1, Role.ADMIN: 2}


def rank_of(role: str) -> int:
    return ROLE_RANK[Role(role)]


def is_staff_role(role: str) -> bool:
    """Moderators and admins: the staff."""
    return rank_of(role) >= ROLE_RANK[Role.MODERATOR]


class Status(StrEnum):
    """A comment's status."""
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


class ArticleStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ArticleModeration(StrEnum):
    """An article's own pre-moderation: ``inherit`` follows the site's Premoderation setting."""
    INHERIT = "inherit"
    POST = "post"
    PRE = "pre"


class Premoderation(StrEnum):
    """The site's pre-moderation setting: no one, authors with too few approved comments, everyone."""
    NONE = "none"
    NEW_USERS = "new_users"
    ALL = "all"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The plain string values of ``enum``, in its order (for Literal types, JSON schemas, SQL)."""
    return tuple(member.value for member in enum)


def _one_of(column: str, enum: type[StrEnum]) -> str:
    """SQL condition of a CheckConstraint: ``column`` holds one of the values of ``enum``."""
    return f"{column} IN ({', '.join(repr(value) for value in values(enum))})"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Case-folded username: the uniqueness key ("Bob" and "bob" are one name).
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.READER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    # Subject of the host site's single-sign-on token, for users created by SSO.
    sso_sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    # What the names look like (names.skeleton), kept in step by _keep_skeletons: finds look-alikes.
    name_skeleton: Mapped[str | None] = mapped_column(String(255), index=True)
    display_skeleton: Mapped[str | None] = mapped_column(String(255), index=True)
    # The language of the messages sent to this user (en or fr).
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")
    # When the current e-mail address was confirmed through its link; NULL: not (yet) verified.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The import that created this account (portability); such an account has no password and cannot log in.
    imported_from: Mapped[str | None] = mapped_column(String(64))

    # The login-session key this user object was loaded through: set on the
    # instance by accounts.start_session / load_session_user, never stored.
    session_key = None

    def get_id(self):
        return self.session_key

    @property
    def rank(self) -> int:
        return rank_of(self.role)

    @property
    def is_moderator(self) -> bool:
        return is_staff_role(self.role)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def is_banned(self, now: datetime | None = None) -> bool:
        return self.banned_until is not None and self.banned_until > (now or utcnow())

    @validates("username", "display_name")
    def _keep_skeletons(self, key: str, value: str) -> str:
        setattr(self, "name_skeleton" if key == "username" else "display_skeleton",
                skeleton(value) if value is not None else None)
        return value


class BannedIdentity(db.Model):
    """A ban kept on an identity of a deleted account, so that a new account with it starts banned.

    Only a SHA-256 of the identity is kept, not the deleted reader's address or name.
    """

    __tablename__ = "banned_identities"
    __table_args__ = (UniqueConstraint("kind", "key_hash", name="uq_banned_identities_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # email, username or sso
    key_hash: Mapped[str] = mapped_column(String(64))
    banned_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(db.Model):
    """A server-side login session: logging out deletes it, so a copied cookie dies with it."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(db.Model):
    """A bearer token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After this the token is refused like a revoked one; NULL: until revoked.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class Article(db.Model):
    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint(_one_of("status", ArticleStatus), name="status"),
        CheckConstraint(_one_of("moderation", ArticleModeration), name="moderation"),
        CheckConstraint("meta_source IN ('view', 'page', 'admin')", name="meta_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(8), default=ArticleStatus.OPEN)
    moderation: Mapped[str] = mapped_column(String(8), default=ArticleModeration.INHERIT)
    # Who set title and url: "view" (provisional: a first view not seen to come from the host page;
    # the first view from it corrects them), "page" (that view) or "admin" (PUT/PATCH: views never do).
    meta_source: Mapped[str] = mapped_column(String(8), default="page", server_default="page")
    # Approved comments, replies included; changed in SQL with every status change.
    comment_count: Mapped[int] = mapped_column(default=0)
    # Bumped by every write to the thread: keys the cache of anonymous thread pages.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(_one_of("status", Status), name="status"),
        # A page of top-level comments of an article, in any order.
        Index("ix_comments_thread", "article_id", "parent_id", "created_at"),
        Index("ix_comments_root", "root_id"),
        Index("ix_comments_parent", "parent_id"),
        # A comment's replies in order (the pages everyone shares pick the first few of each).
        Index("ix_comments_children", "parent_id", "created_at"),
        Index("ix_comments_queue", "status", "decided_at"),
        # The pending queue (oldest first) and the flagged queue (approved with open flags).
        Index("ix_comments_pending", "status", "created_at"),
        Index("ix_comments_flagged", "status", "open_flags"),
        Index("ix_comments_author", "author_id", "created_at"),
        # A logged-in reader's own comments in the thread they read (shared_pages.reader_marks).
        Index("ix_comments_author_article", "author_id", "article_id", "status"),
        # The duplicate check of every post (storing._insert_unless_duplicate): an author's recent same texts.
        Index("ix_comments_author_text", "author_id", "text_key", "article_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    depth: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default=Status.APPROVED)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the comment last changed state: orders the spam/rejected/approved queues.
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pinned: Mapped[bool] = mapped_column(default=False)
    score: Mapped[int] = mapped_column(default=0)
    upvotes: Mapped[int] = mapped_column(default=0)
    downvotes: Mapped[int] = mapped_column(default=0)
    # Flags not yet resolved by a moderator's decision.
    open_flags: Mapped[int] = mapped_column(default=0)
    # Publicly shown direct replies (discussion/shown.py): the reply_count the public sees.
    shown_replies: Mapped[int] = mapped_column(default=0, server_default="0")
    # sanitize.text_key(body_html): the visible text, normalised and hashed, for the duplicate check.
    # The server default covers rows an older release inserts during a rolling deploy.
    text_key: Mapped[str] = mapped_column(String(64), server_default="")
    # The spam filter's score (0..1) when last posted or edited by a reader; NULL: never scored.
    spam_score: Mapped[float | None] = mapped_column(Float)
    # Why the comment was last sent to pending, as its author is told (moderation.rules.HELD_BECAUSE).
    held_because: Mapped[str | None] = mapped_column(String(16))

    article: Mapped[Article] = relationship(lazy="raise")
    author: Mapped[User | None] = relationship(lazy="raise")


@event.listens_for(Comment, "before_update")
def _follow_body(_mapper, _connection, comment: Comment) -> None:
    # Any change of body_html (an edit, a deletion, `flask rerender`) re-keys the text; posts are
    # inserted as Core statements and carry their key.
    if attributes.get_history(comment, "body_html").has_changes():
        comment.text_key = text_key(comment.body_html)


class Vote(db.Model):
    __tablename__ = "votes"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    value: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlagReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class Flag(db.Model):
    """A reader's report of a comment; resolved when a moderator decides on the comment."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("comment_id", "user_id", name="uq_flags_comment_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ModerationEvent(db.Model):
    """One row of the audit log: one decision, by a moderator (actor) or by a rule (actor NULL)."""

    __tablename__ = "moderation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(500))
    # The affected user's username when the row was written: the log still names them once deleted.
    user_name: Mapped[str | None] = mapped_column(String(32))
    # The Markdown source an ``edit`` by someone other than the author replaced.
    previous_body: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")


class ModerationSettings(db.Model):
    """The one row of moderation settings saved through the API; NULL columns fall back to config."""

    __tablename__ = "moderation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    premoderation: Mapped[str | None] = mapped_column(String(10))
    trusted_after: Mapped[int | None] = mapped_column()
    max_links: Mapped[int | None] = mapped_column()
    banned_words: Mapped[list | None] = mapped_column(JSON)
    suspect_words: Mapped[list | None] = mapped_column(JSON)
    flag_threshold: Mapped[int | None] = mapped_column()
    edit_window_minutes: Mapped[int | None] = mapped_column()


class UsedToken(db.Model):
    """A single-use link already used (a password reset, a moderator's action): its nonce, until it expires."""

    __tablename__ = "used_tokens"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
