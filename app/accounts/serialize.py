"""The JSON form of a user, with what each viewer may see."""
from ..models import FOREVER, ApiToken, User
from ..timeutil import isoformat


def user_json(user: User, viewer: User | None = None) -> dict:
    data = {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "created_at": isoformat(user.created_at),
    }
    if viewer is not None and (viewer.id == user.id or viewer.is_admin):
        data["email"] = user.email
        data["email_verified"] = user.email_verified
        data["language"] = user.language
    if viewer is not None and viewer.is_moderator:
        data["banned_until"] = ban_json(user)
    return data


def token_json(token: ApiToken) -> dict:
    """An API token as its owner lists it: never the secret nor its hash."""
    return {"id": token.id, "name": token.name, "created_at": isoformat(token.created_at),
            "last_used_at": isoformat(token.last_used_at), "expires_at": isoformat(token.expires_at)}


def ban_json(user: User) -> str | None:
    if not user.is_banned():
        return None
    return "forever" if user.banned_until >= FOREVER else isoformat(user.banned_until)


