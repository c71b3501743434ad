"""The spam filter's tables: the trained versions of the model, and the filter's one row of settings and state.

A version row holds everything a server needs to score with it (the compressed weights of
``Model.to_bytes``), so every app process scores with the same model and picks a new one up by its
id (``filter.py``); the worker writes them (``learning.py``). Weights of versions older than the
newest few are dropped (``learning.KEEP_WEIGHTS``): their row stays, with its counts and metrics.
"""
from datetime import datetime

from sqlalchemy import JSON, Float, Index, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class SpamModelVersion(db.Model):
    """One trained model: its weights, the features it reads, what it learned from and how it did."""

    __tablename__ = "spam_models"
    # The newest version a process can read (filter.py): by feature version, newest id first.
    __table_args__ = (Index("ix_spam_models_feature", "feature_version", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # features.FEATURE_VERSION when trained: a process reading other features ignores the version.
    feature_version: Mapped[int] = mapped_column()
    # Model.to_bytes() (zlib inside); NULL once pruned.
    weights: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The moderators' decisions it learned from: not spam (approve) and spam.
    decisions_approve: Mapped[int] = mapped_column(default=0)
    decisions_spam: Mapped[int] = mapped_column(default=0)
    # The newest decision (moderation_events.id) its training set included.
    through_event_id: Mapped[int | None] = mapped_column()
    # training.train's metrics (examples, base share, cross-validated AUC, seconds).
    metrics: Mapped[dict | None] = mapped_column(JSON)


class SpamFilterState(db.Model):
    """The filter's one row (id 1): the admin's settings (NULL: the default), the figures the worker
    keeps up to date, and the worker's own bookkeeping of training."""

    __tablename__ = "spam_filter"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Settings (PUT /moderation/spam-filter).
    enabled: Mapped[bool | None] = mapped_column()
    hold_threshold: Mapped[float | None] = mapped_column(Float)
    spam_threshold: Mapped[float | None] = mapped_column(Float)
    # Whether a score at or above spam_threshold goes to spam (state.queue_earned), as last computed.
    spam_queue_active: Mapped[bool] = mapped_column(default=False)
    # The figures of state.figures() when spam_queue_active was last computed, and the newest
    # decision they counted.
    figures: Mapped[dict | None] = mapped_column(JSON)
    figures_through_event_id: Mapped[int | None] = mapped_column()
    # POST /moderation/spam-filter/retrain: the worker trains a version once it sees this.
    retrain_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last training attempt (successful or not): when, and the newest decision it saw.
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempted_through_event_id: Mapped[int | None] = mapped_column()
    # A worker training now holds this lease: another worker does not train meanwhile.
    training_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
