"""What the filter learns from: moderators' verdicts on comments, read from the audit log.

A comment's label is its latest verdict by a moderator (``approve``, ``spam`` or ``reject``): ``spam``
is 1, ``approve`` (a confirmation of an approved comment included) is 0, and ``reject`` (incivility is
not spam) labels nothing, so a reversed verdict changes or removes the label. Decisions of the rules
(actor NULL) never count: the filter would learn from its own output. Comments that were erased
(status ``deleted``) or whose author deleted their account (author NULL) have no label.
"""
from sqlalchemy import func, select

from ..extensions import db
from ..models import Comment, ModerationEvent, Status

# A moderator's verdict on what a comment is; the latest one decides its label.
VERDICTS = ("approve", "spam", "reject")
LABELLING = ("approve", "spam")


def _is_verdict(table=ModerationEvent):
    return (table.actor_id.is_not(None)) & table.action.in_(VERDICTS) & table.comment_id.is_not(None)


def labelled(*columns):
    """``select(event_id, spam, *columns)``: one row per comment with a label, ``spam`` true for 1.
    ``columns`` may name columns of Comment; ``event_id`` is the id of the verdict that labels it."""
    latest = (select(func.max(ModerationEvent.id).label("event_id"))
              .where(_is_verdict()).group_by(ModerationEvent.comment_id).subquery())
    return (select(ModerationEvent.id.label("event_id"), (ModerationEvent.action == "spam").label("spam"),
                   *columns)
            .join(latest, latest.c.event_id == ModerationEvent.id)
            .join(Comment, Comment.id == ModerationEvent.comment_id)
            .where(ModerationEvent.action.in_(LABELLING), Comment.status != Status.DELETED,
                   Comment.author_id.is_not(None)))


def label_counts() -> dict[str, int]:
    """{"approve": n, "spam": n}: the labels a model trained now would learn from."""
    inner = labelled().subquery()
    counts = {"approve": 0, "spam": 0}
    for spam, count in db.session.execute(select(inner.c.spam, func.count()).group_by(inner.c.spam)):
        counts["spam" if spam else "approve"] = count
    return counts


def newest_verdict_id() -> int:
    """The id of the newest moderator's verdict in the audit log (0: none yet)."""
    return db.session.scalar(select(func.max(ModerationEvent.id)).where(_is_verdict())) or 0


def verdicts_since(event_id: int) -> int:
    """How many moderator's verdicts were written after the audit entry ``event_id``."""
    return db.session.scalar(select(func.count()).select_from(ModerationEvent)
                             .where(_is_verdict(), ModerationEvent.id > event_id)) or 0
