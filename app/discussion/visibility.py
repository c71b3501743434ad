"""Who may see which comment: the one filter every read of comments goes through.

A reader sees approved comments and their own pending ones. Moderators see
every comment except deleted ones, with its status. Anything else that still
has a shown reply stays in the tree as a tombstone (see ``tree.py``).
"""
from sqlalchemy import and_, or_

from ..accounts.standing import acts_as_moderator
from ..models import Comment, Status, User

MODERATOR_VISIBLE = (Status.APPROVED, Status.PENDING, Status.REJECTED, Status.SPAM)


def visible_clause(viewer: User | None, table=Comment):
    """SQL condition: ``table`` rows that ``viewer`` may read in full."""
    if acts_as_moderator(viewer):
        return table.status.in_(MODERATOR_VISIBLE)
    if viewer is None:
        return table.status == Status.APPROVED
    return or_(table.status == Status.APPROVED,
               and_(table.status == Status.PENDING, table.author_id == viewer.id))


def is_visible(status: str, author_id: int | None, viewer: User | None) -> bool:
    """The same rule as ``visible_clause``, for rows already loaded."""
    if acts_as_moderator(viewer):
        return status in MODERATOR_VISIBLE
    if status == Status.APPROVED:
        return True
    return viewer is not None and status == Status.PENDING and author_id == viewer.id


def may_see_source(comment_author_id: int | None, viewer: User | None) -> bool:
    """The Markdown source is shown to its author and to moderators."""
    return viewer is not None and (acts_as_moderator(viewer) or viewer.id == comment_author_id)
