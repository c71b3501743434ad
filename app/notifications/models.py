"""The tables of what Causerie sends: events, the outbox, notices, subscriptions, webhooks."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Event(db.Model):
    """Something that happened to a comment or a user, written in the transaction that made it happen.

    The worker fans each event out (``fanout.py``) into messages: webhook deliveries, reply and
    moderator notifications. ``processed_at`` is set in the transaction that writes those messages.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_unprocessed", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(32))  # comment.created, comment.approved, ...
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(db.Model):
    """One message to deliver: an e-mail or a webhook call, with its stable id and its retries.

    ``payload`` holds everything the sender needs (the whole e-mail, or the webhook body), so that
    delivering reads nothing else. A worker claims a due row by setting ``locked_until`` (a lease):
    another worker skips it until the lease ends; a worker that dies leaves it to be retried.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_recipient", "recipient_id", "category", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id a receiver uses to drop a duplicate: the e-mail Message-ID's left part, the webhook-id.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(8))  # mail | webhook
    # What kind of message (verify, reset, reply, reply_digest, moderation, ..., or the webhook event).
    category: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class NotificationSettings(db.Model):
    """A user's notification choices; no row means both off."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    replies: Mapped[str] = mapped_column(String(8), default="off")  # off | instant | daily
    moderation: Mapped[str] = mapped_column(String(8), default="off")  # off | instant | hourly
    # When the last digest of each kind went out: the next one waits for the next period.
    replies_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderation_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscription(db.Model):
    """A reader's choice for one discussion: ``subscribed`` true follows every reply in it; false mutes it."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True)
    subscribed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(db.Model):
    """One thing a user is to be told of (a reply, a held comment), told once: in an instant message
    (``mailed_at`` set when it is written) or, while ``mailed_at`` is NULL, in the next digest."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "comment_id", name="uq_notices_user_kind_comment"),
        Index("ix_notices_unmailed", "mailed_at", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # reply | moderation
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Webhook(db.Model):
    """A publisher's endpoint: the events it wants, and its signing secret (``whsec_``)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    secret: Mapped[str] = mapped_column(String(100))
    disabled: Mapped[bool] = mapped_column(default=False)
    # Why it was disabled by the worker (410 Gone, repeated failure); NULL when an admin did it.
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    # Deliveries that failed for good in a row; reset by a success.
    failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(db.Model):
    """One try at delivering a webhook message: what the endpoint answered, and how fast."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_webhook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column()
    duration_ms: Mapped[int] = mapped_column(default=0)
    attempt: Mapped[int] = mapped_column(default=1)
    error: Mapped[str | None] = mapped_column(String(500))
