"""The JSON forms of articles, comment authors and what review says of a comment."""
from ..accounts.standing import acts_as_moderator
from ..models import Article, Status, User
from ..timeutil import isoformat


def author_json(user: User | None) -> dict | None:
    if user is None:
        return None
    data = {"id": user.id, "username": user.username, "display_name": user.display_name}
    if user.is_moderator:
        data["staff"] = True  # the staff badge; absent for readers, so their author object is unchanged
    return data


def review_json(comment, viewer: User | None) -> dict:
    """What the spam filter and the rules say of a comment, to those who may know it: its score to
    moderators ("spam_score"); to its author, while it waits, only why ("held_because": NULL when no
    rule held it, i.e. a moderator did). Nothing to anyone else."""
    if acts_as_moderator(viewer):
        score = comment.spam_score
        return {"spam_score": round(score, 4) if score is not None else None}
    if viewer is not None and comment.author_id == viewer.id and comment.status == Status.PENDING:
        return {"held_because": comment.held_because or "moderator"}
    return {}


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


