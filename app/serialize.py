"""The JSON forms of users and articles (comments: see comments_json.py)."""
from .models import FOREVER, Article, User
from .timeutil import isoformat


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
    if viewer is not None and viewer.is_moderator:
        data["banned_until"] = ban_json(user)
    return data


def ban_json(user: User) -> str | None:
    if not user.is_banned():
        return None
    return "forever" if user.banned_until >= FOREVER else isoformat(user.banned_until)


def author_json(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def article_json(article: Article) -> dict:
    return {
        "key": article.key,
        "title": article.title,
        "url": article.url,
        "status": article.status,
        "moderation": article.moderation,
        "comment_count": article.comment_count,
        "created_at": isoformat(article.created_at),
    }
