"""What a ban takes from an account: every write, and every staff power (staff reads included)."""
from ..errors import ApiError
from ..models import User


def refuse_banned(user: User) -> None:
    """403 ``banned`` for a banned account: the one check before any write or staff power."""
    if user.is_banned():
        raise ApiError(403, "banned", "Your account is suspended.")


def acts_as_moderator(user: User | None) -> bool:
    """A moderator or admin who is not banned: a ban takes the moderator's view and pages too."""
    return user is not None and user.is_moderator and not user.is_banned()
