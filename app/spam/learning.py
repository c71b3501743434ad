"""Training the filter in the worker: the training set, when a new version is due, and the job itself.

The training set is every comment with a moderator's label (``decisions.py``), as the filter saw it
when it was posted: its Markdown source, the domains it links to, and its author's history before it
(approved comments up to the cap the features use, whether it was their first). ``training.train``
fits it, faded in over the shipped base model, and the version row is written with the weights.

A version is due (``due``): after every new verdict while fewer than EVERY_VERDICT_BELOW labels are
in, then every EVERY_N verdicts, once a day whatever happened (a deleted account's or an erased
comment's label leaves then at the latest), when an admin asks (``state.request_retrain``), and after
an upgrade that changed the features (FEATURE_VERSION: versions of the old ones are ignored).
Several workers may run: one trains at a time (a lease on the state row).
"""
import bisect
import logging
from datetime import timedelta

from sqlalchemy import func, select, update

from ..database import writing
from ..extensions import db
from ..models import Comment, Status
from ..timeutil import utcnow
from . import decisions, state
from .base_model import base_model
from .features import FEATURE_VERSION, Context
from .filter import APPROVED_CAP, link_domains
from .models import SpamFilterState, SpamModelVersion

log = logging.getLogger(__name__)

EVERY_VERDICT_BELOW = 100
EVERY_N = 20
NIGHTLY = timedelta(hours=24)
# After an upgrade with new features, a version is trained at once; if that fails, again this much later.
NEW_FEATURES_RETRY = timedelta(hours=1)
# A worker that died while training lets another train after this long.
LEASE = timedelta(minutes=10)
# Versions whose weights are kept (the newest; older rows keep their counts and metrics).
KEEP_WEIGHTS = 3


def training_examples() -> tuple[list, dict[str, int]]:
    """The training set (``training.Example``s) and its label counts."""
    from .training import Example

    rows = db.session.execute(decisions.labelled(Comment.id, Comment.author_id, Comment.body,
                                                 Comment.body_html).order_by(Comment.id)).all()
    firsts, approved = _author_history(decisions.labelled(Comment.author_id).subquery())
    examples, counts = [], {"approve": 0, "spam": 0}
    for row in rows:
        context = Context(link_domains=link_domains(row.body_html),
                          author_approved=bisect.bisect_left(approved.get(row.author_id, []), row.id),
                          first_comment=firsts.get(row.author_id) == row.id)
        examples.append(Example(row.body, context, 1 if row.spam else 0))
        counts["spam" if row.spam else "approve"] += 1
    return examples, counts


def _author_history(labelled) -> tuple[dict[int, int], dict[int, list[int]]]:
    """For the authors of the labelled comments: their first comment's id, and the ids of their first
    APPROVED_CAP approved comments (how many came before a comment is then a bisection)."""
    authors = select(labelled.c.author_id)
    firsts = dict(db.session.execute(select(Comment.author_id, func.min(Comment.id))
                                     .where(Comment.author_id.in_(authors)).group_by(Comment.author_id)).all())
    ranked = (select(Comment.author_id, Comment.id,
                     func.row_number().over(partition_by=Comment.author_id, order_by=Comment.id).label("n"))
              .where(Comment.author_id.in_(authors), Comment.status == Status.APPROVED).subquery())
    approved: dict[int, list[int]] = {}
    for author_id, comment_id in db.session.execute(
            select(ranked.c.author_id, ranked.c.id).where(ranked.c.n <= APPROVED_CAP)
            .order_by(ranked.c.author_id, ranked.c.id)):
        approved.setdefault(author_id, []).append(comment_id)
    return firsts, approved


def due(row: SpamFilterState | None, labels: int) -> str | None:
    """Why a new version is due now (None: it is not), from the state row and the number of labels."""
    if row is not None and row.retrain_requested_at is not None:
        return "asked for"
    if labels == 0:
        return None
    attempted_at = row.attempted_at if row is not None else None
    new = decisions.verdicts_since((row.attempted_through_event_id or 0) if row is not None else 0)
    if new and labels < EVERY_VERDICT_BELOW:
        return "a new decision"
    if new >= EVERY_N:
        return f"{new} new decisions"
    if attempted_at is None or utcnow() - attempted_at >= NIGHTLY:
        return "nightly"
    if utcnow() - attempted_at >= NEW_FEATURES_RETRY and _no_version_of_these_features():
        return "new features"
    return None


def _no_version_of_these_features() -> bool:
    """True after an upgrade that changed FEATURE_VERSION: every server scores with the base model
    until a version of the new features is trained."""
    return db.session.scalar(select(SpamModelVersion.id).where(
        SpamModelVersion.feature_version == FEATURE_VERSION).limit(1)) is None


def run_due() -> int:
    """The worker's job: keep the figures current after new verdicts, train a version when one is due.
    Returns how many of the two it did (0: nothing was due)."""
    row = db.session.get(SpamFilterState, 1, populate_existing=True)
    newest = decisions.newest_verdict_id()
    done = 0
    figures = row.figures if row is not None else None
    if newest != (row.figures_through_event_id if row is not None else 0):
        with writing():
            row = state.state_row(lock=True)
            figures = state.store_figures(row, newest)
        db.session.commit()
        done += 1
    labels = sum(figures["decisions"].values()) if figures else 0
    reason = due(row, labels)
    db.session.commit()
    if reason is not None:
        log.info("training a spam filter version: %s", reason)
        done += retrain() is not None
    return done


def _claim() -> bool:
    """Take the training lease (False: another worker is training)."""
    now = utcnow()
    with writing():
        state.state_row()
        claimed = db.session.execute(
            update(SpamFilterState).where(SpamFilterState.id == 1,
                                          (SpamFilterState.training_until.is_(None))
                                          | (SpamFilterState.training_until < now))
            .values(training_until=now + LEASE)).rowcount
    db.session.commit()
    return claimed == 1


def retrain() -> SpamModelVersion | None:
    """Train a version on the labels as they are now and store it; None when there is nothing to learn
    from, training failed, or another worker holds the lease. Commits."""
    from .training import train

    if not _claim():
        return None
    started = utcnow()
    version = None
    # Recorded even when training fails: the next try waits for new decisions (or the night).
    through = decisions.newest_verdict_id()
    try:
        examples, counts = training_examples()
        db.session.commit()  # nothing is read while training
        if examples:
            model, metrics = train(examples, base=base_model())
            version = SpamModelVersion(feature_version=FEATURE_VERSION, weights=model.to_bytes(),
                                       decisions_approve=counts["approve"], decisions_spam=counts["spam"],
                                       through_event_id=through or None, metrics=metrics)
    except Exception:  # noqa: BLE001  (a failed training must not stop the worker's other work)
        log.exception("training the spam filter failed")
        db.session.rollback()
    with writing():
        row = state.state_row(lock=True)
        if version is not None:
            db.session.add(version)
            db.session.flush()
            _prune_weights()
        row.attempted_at = started
        row.attempted_through_event_id = through
        row.training_until = None
        if row.retrain_requested_at is not None and row.retrain_requested_at <= started:
            row.retrain_requested_at = None
        db.session.flush()
    db.session.commit()
    return version


def _prune_weights() -> None:
    keep_from = db.session.scalar(select(SpamModelVersion.id).order_by(SpamModelVersion.id.desc())
                                  .offset(KEEP_WEIGHTS - 1).limit(1))
    if keep_from is not None:
        db.session.execute(update(SpamModelVersion)
                           .where(SpamModelVersion.id < keep_from, SpamModelVersion.weights.is_not(None))
                           .values(weights=None))
