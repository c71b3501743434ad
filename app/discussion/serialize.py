"""The JSON forms of articles and comment authors."""
from ..models import Article, User
from ..timeutil import isoformat


def author_json(user: User | None) -> dict | None:
    if user is None:
        return None
    data = {"id": user.id, "username": user.username, "display_name": user.display_name}
    if user.is_moderator:
        data["staff"] = True  # the staff badge; absent for readers, so their author object is unchanged
    return data


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


