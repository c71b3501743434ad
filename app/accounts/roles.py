"""Roles: reader < moderator < admin."""
from sqlalchemy import select

from ..database import writing
from ..discussion.lifecycle import author_shown_differently
from ..errors import conflict, not_found
from ..extensions import db
from ..models import Role, User


def ensure_admin_remains(leaving: User) -> None:
    """409 when ``leaving`` is the last admin (demoted or deleted).

    The admins' rows stay locked until the transaction ends: two admins demoting each other at
    once are serialized.
    """
    admins = db.session.scalars(select(User.id).where(User.role == Role.ADMIN)
                                .order_by(User.id).with_for_update()).all()
    if leaving.id in admins and len(admins) == 1:
        raise conflict("This is the last administrator; make another one first.")


@writing()
def set_role(user_id: int, role: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("No such user.")
    if Role(role) != Role.ADMIN:
        ensure_admin_remains(user)
    was_staff = user.is_moderator
    user.role = Role(role)
    if user.is_moderator != was_staff:  # the staff badge on their comments: cached pages must go
        author_shown_differently(user.id)
    db.session.flush()
    return user


