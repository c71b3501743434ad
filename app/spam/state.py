"""The spam filter's settings and figures, kept in its one row (``SpamFilterState``, id 1) so that every
server agrees.

Settings: ``enabled`` (the SPAM_FILTER setting must be on too), ``hold_threshold`` and
``spam_threshold`` (NULL: the defaults below). Figures: the labels the filter would learn from, and how
its scores did on the last RECENT labelled comments it scored (the score it gave when the comment was
posted or edited, against the moderator's verdict since). ``spam_queue_active`` is earned: a score at or
above ``spam_threshold`` goes to ``spam`` only once QUEUE_MIN_DECISIONS labels, QUEUE_MIN_SPAM of them
spam, are in and the precision at that threshold over the recent ones is at least QUEUE_MIN_PRECISION;
until then it only holds. The worker recomputes it after new verdicts (``learning.run_due``), an admin's
change of the thresholds at once.
"""
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import validation_error
from ..extensions import db
from ..models import Comment, ModerationEvent
from ..timeutil import isoformat, utcnow
from . import decisions
from .models import SpamFilterState, SpamModelVersion

DEFAULT_HOLD_THRESHOLD = 0.5
DEFAULT_SPAM_THRESHOLD = 0.9
RECENT = 200
QUEUE_MIN_DECISIONS = 200
QUEUE_MIN_SPAM = 30
QUEUE_MIN_PRECISION = 0.95


@dataclass(frozen=True)
class Settings:
    enabled: bool
    hold_threshold: float
    spam_threshold: float


def effective(row) -> Settings:
    """The settings of a state row (or of a row of its columns; None: no row yet), defaults filled in."""
    def value(name, default):
        stored = getattr(row, name, None) if row is not None else None
        return default if stored is None else stored
    return Settings(enabled=bool(current_app.config["SPAM_FILTER"]) and bool(value("enabled", True)),
                    hold_threshold=float(value("hold_threshold", DEFAULT_HOLD_THRESHOLD)),
                    spam_threshold=float(value("spam_threshold", DEFAULT_SPAM_THRESHOLD)))


def state_row(lock: bool = False) -> SpamFilterState:
    """The state row, created on first use (call inside ``writing()``)."""
    row = db.session.get(SpamFilterState, 1, with_for_update=lock, populate_existing=True)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = SpamFilterState(id=1, spam_queue_active=False)
            db.session.add(row)
    except IntegrityError:  # another server created it at the same moment
        row = db.session.get(SpamFilterState, 1, with_for_update=lock, populate_existing=True)
    return row


# -- figures ---------------------------------------------------------------------------------

def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def recent_figures(settings: Settings) -> dict:
    """Precision and recall of the scores on the last RECENT labelled comments that were scored."""
    rows = db.session.execute(
        decisions.labelled(Comment.spam_score.label("score")).where(Comment.spam_score.is_not(None))
        .order_by(ModerationEvent.id.desc()).limit(RECENT)).all()
    held = [bool(row.spam) for row in rows if row.score >= settings.hold_threshold]
    sent = [bool(row.spam) for row in rows if row.score >= settings.spam_threshold]
    spam = sum(bool(row.spam) for row in rows)
    return {"scored": len(rows),
            "precision_at_hold": _ratio(sum(held), len(held)),
            "recall_at_hold": _ratio(sum(held), spam),
            "precision_at_spam": _ratio(sum(sent), len(sent))}


def figures(settings: Settings) -> dict:
    """{"decisions", "recent", "spam_queue_active"} as they are now."""
    counts = decisions.label_counts()
    recent = recent_figures(settings)
    return {"decisions": counts, "recent": recent, "spam_queue_active": queue_earned(counts, recent)}


def queue_earned(counts: dict, recent: dict) -> bool:
    precision = recent["precision_at_spam"]
    return (counts["approve"] + counts["spam"] >= QUEUE_MIN_DECISIONS and counts["spam"] >= QUEUE_MIN_SPAM
            and precision is not None and precision >= QUEUE_MIN_PRECISION)


def store_figures(row: SpamFilterState, through_event_id: int) -> dict:
    """Recompute the figures and keep them (and spam_queue_active) in the row; returns them."""
    current = figures(effective(row))
    row.figures = {"decisions": current["decisions"], "recent": current["recent"]}
    row.spam_queue_active = current["spam_queue_active"]
    row.figures_through_event_id = through_event_id
    db.session.flush()
    return current


# -- what the API shows and changes ----------------------------------------------------------

def summary() -> dict:
    """The JSON of GET /moderation/spam-filter, with the figures as they are now."""
    row = db.session.get(SpamFilterState, 1)
    settings = effective(row)
    version = db.session.execute(
        select(SpamModelVersion.id, SpamModelVersion.created_at)
        .order_by(SpamModelVersion.id.desc()).limit(1)).first()
    current = figures(settings)
    return {
        "enabled": settings.enabled,
        "version": version.id if version else None,
        "trained_at": isoformat(version.created_at) if version else None,
        "decisions": current["decisions"],
        "hold_threshold": settings.hold_threshold,
        "spam_threshold": settings.spam_threshold,
        # As in force: what the worker (or the last change of thresholds) computed, which posting reads.
        "spam_queue_active": bool(row is not None and row.spam_queue_active),
        "recent": current["recent"],
        # Beyond the contract: why "enabled" is false although the setting is on, and whether a
        # retrain asked for is still to come.
        "disabled_by_config": not current_app.config["SPAM_FILTER"],
        "retrain_requested": bool(row is not None and row.retrain_requested_at is not None),
    }


def update_settings(fields: dict) -> None:
    """Store the given settings (types already checked); 422 naming the fields when the thresholds
    would not hold 0 < hold_threshold <= spam_threshold <= 1. Call inside ``writing()``."""
    for name, value in fields.items():
        if value is None:
            raise validation_error({name: "must not be null"})
    row = state_row(lock=True)
    merged = effective(row)
    hold = fields.get("hold_threshold", merged.hold_threshold)
    spam = fields.get("spam_threshold", merged.spam_threshold)
    if hold > spam:
        named = [name for name in ("hold_threshold", "spam_threshold") if name in fields]
        raise validation_error({name: "hold_threshold must not be above spam_threshold" for name in named})
    for name, value in fields.items():
        setattr(row, name, value)
    db.session.flush()
    if "spam_threshold" in fields or "hold_threshold" in fields:
        store_figures(row, decisions.newest_verdict_id())  # the precision that earns the queue moved


def request_retrain() -> None:
    """Leave the worker a note to train a new version (POST /moderation/spam-filter/retrain)."""
    row = state_row(lock=True)
    row.retrain_requested_at = utcnow()
    db.session.flush()
