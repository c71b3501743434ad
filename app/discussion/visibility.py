"""Who may see which comment: the one filter every read of comments goes through.

A reader sees approved comments and their own pending ones. Moderators see
every comment except deleted ones, with its status. Anything else that still
has a shown reply stays in the tree as a tombstone (see ``tree.py``).
"""
from sqlalchemy import and_, or_

from ..models import Comment, Status, User

MODERATOR_VISIBLE = (Status.APPROVED, Status.PENDING, Status.REJECTED, Status.SPAM)


def _moderates(viewer: User | None) -> bool:
    """A moderator who is not banned: a ban takes the moderator's view of hidden comments too."""
    return viewer is not None and viewer.is_moderator and not viewer.is_banned()


def visible_clause(viewer: User | None, table=Comment):
    """SQL condition: ``table`` rows that ``viewer`` may read in full."""
    if _moderates(viewer):
        return table.status.in_(MODERATOR_VISIBLE)
    if viewer is None:
        return table.status == Status.APPROVED
    return or_(table.status == Status.APPROVED,
               and_(table.status == Status.PENDING, table.author_id == viewer.id))


def is_visible(status: str, author_id: int | None, viewer: User | None) -> bool:
    """The same rule as ``visible_clause``, for rows already loaded."""
    if _moderates(viewer):
        return status in MODERATOR_VISIBLE
    if status == Status.APPROVED:
        return True
    return viewer is not None and status == Status.PENDING and author_id == viewer.id


def may_see_source(comment_author_id: int | None, viewer: User | None) -> bool:
    """The Markdown source is shown to its author and to moderators."""
    return viewer is not None and (_moderates(viewer) or viewer.id == comment_author_id)
