"""The spam filter on the request path: score a reader's comment and decide what the score does.

``judge`` runs after the rules (``moderation.rules.evaluate``), on every post and edit by a reader
while the filter is enabled. It costs one query, whatever happens: the filter's settings, the id of
the newest model version and the author's history (approved comments, up to APPROVED_CAP: the
features bucket them at 20+; whether this is their first comment) are read together, and with them
the moderation settings, so that a post reads the rules' settings and the filter's at once
(``read``). The model of that version is loaded once per process and kept (``_Models``), so a
version trained by the worker is picked up by the next comment every server scores, without a
restart. Before any version
exists, the shipped base model scores. Scoring reads the first 1,000 characters and never leaves
the process.

A score at or above ``hold_threshold`` holds the comment (audit ``hold``); at or above
``spam_threshold`` it goes to ``spam``, once the filter has earned it (``state.py``). The reason
names the score, the decisions learned from and the words that weighed most; the author is only
told ``held_because``.
"""
import logging
import re
import threading
import zlib
from dataclasses import dataclass, replace
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, bindparam, cast, exists, func, literal_column, select

from ..database import run
from ..extensions import db
from ..models import Comment, ModerationSettings, Status, User
from ..moderation import settings as moderation_settings
from ..moderation.rules import Outcome
from .base_model import base_model
from .features import FEATURE_VERSION, MAX_CHARS, Context, extract
from .models import SpamFilterState, SpamModelVersion
from .scorer import Model
from .state import effective

log = logging.getLogger(__name__)

# The features count approved comments up to "20+": counting further would only cost time.
APPROVED_CAP = 20
EXPLAINED_TERMS = 3

_HREF = re.compile(r'href="(?:https?:)?//([^/"?#:]+)', re.IGNORECASE)


def _reading(dialect: str, edit: bool):
    # Every value a parameter of its own, or written in the SQL: run() passes only those it is given.
    one = select(literal_column("1").label("one")).subquery()
    author = bindparam("author_id")
    # An edit is judged on the author's comments before it; a new comment on all of them (no bound on
    # the id: PostgreSQL then reads the count from the index alone).
    before = (Comment.id <= bindparam("up_to_id"),) if edit else ()
    # On SQLite the status is compared as an expression, not as the column: on the column SQLite picks
    # the status index and reads every approved comment of the site; this way it reads the author's (up
    # to the cap). PostgreSQL given the expression reads every row of the author's from the table (1.5 ms
    # for 1,000); given the column it reads the status from the index (author_id, article_id, status).
    status = Comment.status + bindparam("nothing") if dialect == "sqlite" else Comment.status
    # author_id, not id: a column of the index, which PostgreSQL then reads alone.
    approved_rows = (select(Comment.author_id)
                     .where(Comment.author_id == author, status == bindparam("approved_status"),
                            *before)
                     .limit(bindparam("cap")).offset(bindparam("skip")).subquery())
    approved = select(func.count()).select_from(approved_rows).scalar_subquery()
    earlier = exists().where(Comment.author_id == author, *before)
    newest = (select(func.max(SpamModelVersion.id))
              .where(SpamModelVersion.feature_version == bindparam("feature_version")).scalar_subquery())
    # Integers, not booleans: the driver's own values, read with no conversion (database.run).
    # The moderation settings ride along: a post needs them for the rules, and one query is one round
    # trip less (a new comment's reads are a third of its time on PostgreSQL).
    return (select(cast(SpamFilterState.enabled, Integer), SpamFilterState.hold_threshold,
                   SpamFilterState.spam_threshold, cast(SpamFilterState.spam_queue_active, Integer),
                   newest, approved, cast(earlier, Integer), *moderation_settings.stored_columns())
            .select_from(one).outerjoin(SpamFilterState, SpamFilterState.id == literal_column("1"))
            .outerjoin(ModerationSettings, ModerationSettings.id == literal_column("1")))


# Built once: the statement of every scored comment.
_READING = {(dialect, edit): _reading(dialect, edit) for dialect in ("sqlite", "postgresql") for edit in (False, True)}
_CONSTANTS = {"nothing": "", "approved_status": Status.APPROVED.value, "cap": APPROVED_CAP, "skip": 0,
              "feature_version": FEATURE_VERSION}


class Reading(NamedTuple):
    """What ``_READING`` reads: the filter's settings (None: the default), the newest version, the
    author's history, and the stored moderation settings (``moderation_settings.settings_from``)."""
    enabled: int | None
    hold_threshold: float | None
    spam_threshold: float | None
    spam_queue_active: int | None
    version_id: int | None
    approved: int
    earlier: int
    moderation: tuple

    @classmethod
    def of(cls, row) -> "Reading":
        return cls(*row[:7], tuple(row[7:]))


@dataclass(frozen=True)
class Loaded:
    """A model ready to score, and where it came from."""
    version_id: int | None  # None: the shipped base model
    model: Model
    decisions: int  # the moderators' decisions it learned from


class _Models:
    """The model this process scores with, per app: replaced when a newer version id is read."""

    def __init__(self):
        self.lock = threading.Lock()
        self.loaded: Loaded | None = None

    def get(self, version_id: int | None) -> Loaded:
        loaded = self.loaded
        if loaded is not None and loaded.version_id == version_id:
            return loaded
        with self.lock:
            if self.loaded is None or self.loaded.version_id != version_id:
                self.loaded = _load(version_id)
            return self.loaded


def _load(version_id: int | None) -> Loaded:
    row = None
    if version_id is not None:
        row = db.session.execute(
            select(SpamModelVersion.weights, SpamModelVersion.decisions_approve,
                   SpamModelVersion.decisions_spam).where(SpamModelVersion.id == version_id)).first()
    if row is None:  # committed after this transaction began (SQLite): the next comment loads it
        return Loaded(None, base_model(), 0)
    if row.weights is not None:
        try:
            return Loaded(version_id, Model.from_bytes(bytes(row.weights)),
                          row.decisions_approve + row.decisions_spam)
        except (ValueError, zlib.error):
            log.exception("spam model version %s cannot be read: scoring with the base model", version_id)
    return Loaded(version_id, base_model(), 0)


def models() -> _Models:
    """This app's model cache (an app per test gets its own, as a process would)."""
    return current_app.extensions.setdefault("causerie.spam_models", _Models())


def link_domains(html: str) -> tuple[str, ...]:
    """The hosts the rendered comment links to."""
    if "href" not in html:
        return ()
    return tuple(sorted({host.lower() for host in _HREF.findall(html)}))


def applies_to(author: User) -> bool:
    """Whether the filter judges ``author``'s comments: staff are exempt, as from the other rules."""
    return not author.is_moderator and current_app.config["SPAM_FILTER"]


def read(author: User, comment_id: int | None = None) -> Reading:
    """What judging a comment by ``author`` needs (``comment_id``: an edit), and the moderation
    settings, in one query. On the request's connection, as Core (a connection of its own would cost
    a checkout: a fifth of a post on PostgreSQL)."""
    edit = comment_id is not None
    params = {"author_id": author.id, **_CONSTANTS, **({"up_to_id": comment_id - 1} if edit else {})}
    return Reading.of(run(_READING[db.engine.dialect.name, edit], params).one())


def judge(outcome: Outcome, author: User, source: str, html: str, comment_id: int | None = None,
          reading: Reading | None = None) -> Outcome:
    """The rules' ``outcome`` with the filter's score and decision added (``comment_id``: an edit;
    ``reading``: ``read``'s, when the caller has it already).

    Staff are exempt, as from the other rules. A rejection by the rules (a banned word) stands; a
    comment they hold gets the filter's reason added when it scores high too.
    """
    if not applies_to(author):
        return outcome
    reading = reading or read(author, comment_id)
    settings = effective(reading)
    if not settings.enabled:
        return outcome
    loaded = models().get(reading.version_id)
    context = Context(link_domains=link_domains(html), author_approved=int(reading.approved or 0),
                      first_comment=not reading.earlier)
    features = extract(source[:MAX_CHARS], context)
    score = loaded.model.score(features)
    judged = replace(outcome, spam_score=score)
    if outcome.status == Status.REJECTED or score < settings.hold_threshold:
        return judged
    reasons = outcome.reasons + [spam_reason(score, loaded, loaded.model.explain(features, EXPLAINED_TERMS))]
    if score >= settings.spam_threshold and reading.spam_queue_active:
        return replace(judged, status=Status.SPAM.value, action="spam", reasons=reasons)
    return replace(judged, status=Status.PENDING.value, action="hold", reasons=reasons,
                   held_because=outcome.held_because or "spam_filter")


def spam_reason(score: float, loaded: Loaded, terms: list[tuple[str, float]]) -> str:
    """"spam score 0.97: learned from 1,240 decisions; words: 'check out' +2.4, ..." (for moderators)."""
    learned = f"learned from {loaded.decisions:,} decisions"
    if loaded.model is base_model():
        learned += " (the shipped base model)"
    reason = f"spam score {score:.2f}: {learned}"
    if terms:
        reason += "; words: " + ", ".join(f"'{label[:40]}' {weight:+.1f}" for label, weight in terms)
    return reason
