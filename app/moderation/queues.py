"""What a moderator reads: the queues (with the context to decide without clicking away) and the audit log.

Every page costs a constant number of queries: authors, articles, parents, flags, author
histories and reasons are loaded for the whole page at once.
"""

import re

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from .. import pagination
from ..accounts.serialize import ban_json, user_json
from ..extensions import db
from ..models import Article, Comment, Flag, ModerationEvent, Status, User, Vote
from ..timeutil import isoformat

# -- queues ----------------------------------------------------------------------------

QUEUES = ("pending", "flagged", "spam", "rejected", "approved")
EXCERPT_LENGTH = 200
_REASONED_ACTIONS = ("approve", "reject", "spam", "hold")
# Between a rule's reasons; the spam filter's own reason goes on with "; words: ..." (spam/filter.py).
_RULE_REASONS = re.compile(r"; (?!words: )")


def _queue_order(name: str) -> list[tuple]:
    """(column, descending) pairs; ties by id."""
    if name == "pending":
        return [(Comment.created_at, False), (Comment.id, False)]
    if name == "flagged":
        return [(Comment.open_flags, True), (Comment.created_at, False), (Comment.id, False)]
    return [(Comment.decided_at, True), (Comment.id, True)]


def _queue_filter(name: str):
    if name == "flagged":
        return and_(Comment.status == Status.APPROVED, Comment.open_flags > 0)
    return Comment.status == name


def _cursor_values(name: str, comment: Comment) -> list:
    if name == "pending":
        return [comment.created_at, comment.id]
    if name == "flagged":
        return [comment.open_flags, comment.created_at, comment.id]
    return [comment.decided_at, comment.id]


def _decode_cursor(name: str, token: str | None) -> list | None:
    values = pagination.decode(f"queue-{name}", token)
    if values is None:
        return None
    expected = 3 if name == "flagged" else 2
    if len(values) != expected or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise pagination.invalid()
    values[-2] = pagination.to_datetime(values[-2])
    return values


def queue_page(name: str, viewer: User, article: Article | None = None, limit: int = 20,
               after: str | None = None) -> tuple[list[dict], str | None]:
    """A page of the queue ``name`` (see ``QUEUES``), each comment with what a moderator decides on."""
    order = _queue_order(name)
    query = (select(Comment).options(joinedload(Comment.author)).where(_queue_filter(name))
             .order_by(*pagination.order_by(order)).limit(limit + 1))
    if article is not None:
        query = query.where(Comment.article_id == article.id)
    position = _decode_cursor(name, after)
    if position is not None:
        query = query.where(pagination.keyset_after(order, position))
    rows = list(db.session.scalars(query).unique())
    page = rows[:limit]
    next_cursor = (pagination.encode(f"queue-{name}", *_cursor_values(name, page[-1]))
                   if len(rows) > limit else None)
    return _queue_items(page, viewer), next_cursor


def queue_counts(article: Article | None = None) -> dict:
    """How many comments wait in the pending, flagged and spam queues, in one query.

    With an article, the counts are that article's, like the queue beside them.
    """
    def tally(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = select(
        tally(Comment.status == Status.PENDING),
        tally(and_(Comment.status == Status.APPROVED, Comment.open_flags > 0)),
        tally(Comment.status == Status.SPAM),
    ).where(Comment.status.in_((Status.PENDING, Status.APPROVED, Status.SPAM)))
    if article is not None:
        query = query.where(Comment.article_id == article.id)
    pending, flagged, spam = db.session.execute(query).one()
    return {"pending": int(pending), "flagged": int(flagged), "spam": int(spam)}


def _queue_items(page: list[Comment], viewer: User) -> list[dict]:
    """The JSON of a page: a constant number of IN / GROUP BY queries, whatever its size."""
    from ..discussion.threads import comment_json
    if not page:
        return []
    ids = [comment.id for comment in page]
    articles = {row.id: row for row in db.session.execute(
        select(Article.id, Article.key, Article.title, Article.url)
        .where(Article.id.in_({c.article_id for c in page})))}
    parent_ids = {c.parent_id for c in page if c.parent_id is not None}
    excerpts = dict(db.session.execute(
        select(Comment.id, func.substr(Comment.body, 1, EXCERPT_LENGTH + 1))
        .where(Comment.id.in_(parent_ids))).all()) if parent_ids else {}
    flags: dict[int, list] = {}
    for comment_id, reason, count in db.session.execute(
            select(Flag.comment_id, Flag.reason, func.count())
            .where(Flag.comment_id.in_(ids), Flag.resolved_at.is_(None))
            .group_by(Flag.comment_id, Flag.reason)
            .order_by(Flag.comment_id, func.count().desc(), Flag.reason)):
        flags.setdefault(comment_id, []).append({"reason": reason, "count": count})
    stats = _author_stats({c.author_id for c in page if c.author_id is not None})
    reasons = _current_reasons(ids)
    replies = dict(db.session.execute(
        select(Comment.parent_id, func.count()).where(Comment.parent_id.in_(ids),
                                                       Comment.status != Status.DELETED)
        .group_by(Comment.parent_id)).all())
    votes = dict(db.session.execute(
        select(Vote.comment_id, Vote.value).where(Vote.user_id == viewer.id, Vote.comment_id.in_(ids))
    ).all())

    items = []
    for comment in page:
        article = articles[comment.article_id]
        reply_count = replies.get(comment.id, 0)
        data = comment_json(comment, viewer, article.key, votes.get(comment.id, 0),
                            reply_count, reply_count)
        comment_flags = flags.get(comment.id, [])
        flag_count = sum(item["count"] for item in comment_flags)
        why = list(reasons.get(comment.id, []))
        if flag_count and comment.status == Status.APPROVED:
            why.append(f"flagged by {flag_count} reader{'s' if flag_count != 1 else ''}")
        excerpt = excerpts.get(comment.parent_id)
        if excerpt is not None and len(excerpt) > EXCERPT_LENGTH:
            excerpt = excerpt[:EXCERPT_LENGTH] + "…"
        data.update({
            "body": comment.body,
            "flags": comment_flags,
            "flag_count": flag_count,
            "author_stats": stats.get(comment.author_id, {"approved": 0, "rejected": 0, "spam": 0}),
            "author_banned_until": ban_json(comment.author) if comment.author else None,
            "reasons": why,
            "article_title": article.title,
            "article_url": article.url,
            "parent_excerpt": excerpt,
            "decided_at": isoformat(comment.decided_at),
        })
        items.append(data)
    return items


def _author_stats(author_ids: set[int]) -> dict[int, dict]:
    stats = {author_id: {"approved": 0, "rejected": 0, "spam": 0} for author_id in author_ids}
    if author_ids:
        for author_id, status, count in db.session.execute(
                select(Comment.author_id, Comment.status, func.count())
                .where(Comment.author_id.in_(author_ids),
                       Comment.status.in_((Status.APPROVED, Status.REJECTED, Status.SPAM)))
                .group_by(Comment.author_id, Comment.status)):
            stats[author_id][str(status)] = count
    return stats


def _current_reasons(ids: list[int]) -> dict[int, list[str]]:
    """Why each comment has its status: the reasons of the last decision that put it there."""
    latest = (
        select(func.max(ModerationEvent.id))
        .join(Comment, Comment.id == ModerationEvent.comment_id)
        .where(ModerationEvent.comment_id.in_(ids), ModerationEvent.to_status == Comment.status,
               ModerationEvent.action.in_(_REASONED_ACTIONS))
        .group_by(ModerationEvent.comment_id)
    )
    reasons = {}
    for comment_id, actor_id, reason in db.session.execute(
            select(ModerationEvent.comment_id, ModerationEvent.actor_id, ModerationEvent.reason)
            .where(ModerationEvent.id.in_(latest))):
        if reason:
            # A rule's entry joins all its reasons with "; " (see discussion/posting.py); a moderator's is one.
            reasons[comment_id] = _RULE_REASONS.split(reason) if actor_id is None else [reason]
    return reasons


# -- the audit log --------------------------------------------------------------------

def log_page(viewer: User, comment_id: int | None = None, user_id: int | None = None,
             actor_id: int | None = None, limit: int = 50,
             after: str | None = None) -> tuple[list[dict], str | None]:
    """Entries of the audit log, newest first (by id: the order they were written in)."""
    query = select(ModerationEvent).order_by(ModerationEvent.id.desc()).limit(limit + 1)
    for column, value in ((ModerationEvent.comment_id, comment_id), (ModerationEvent.user_id, user_id),
                          (ModerationEvent.actor_id, actor_id)):
        if value is not None:
            query = query.where(column == value)
    position = pagination.decode("log", after)
    if position is not None:
        if len(position) != 1 or not isinstance(position[0], int) or isinstance(position[0], bool):
            raise pagination.invalid()
        query = query.where(ModerationEvent.id < position[0])
    rows = list(db.session.scalars(query))
    page = rows[:limit]
    actor_ids = {event.actor_id for event in page if event.actor_id is not None}
    actors = ({user.id: user for user in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
              if actor_ids else {})
    entries = [{
        "id": event.id,
        "at": isoformat(event.at),
        "actor": user_json(actors[event.actor_id], viewer) if event.actor_id in actors else None,
        "action": event.action,
        "comment_id": event.comment_id,
        "user_id": event.user_id,
        "user_name": event.user_name,  # kept when the account is deleted (user_id becomes null)
        "from": event.from_status,
        "to": event.to_status,
        "reason": event.reason,
        # What a moderator's edit replaced: admins only, who oversee the moderators.
        **({"previous_body": event.previous_body} if viewer.is_admin else {}),
    } for event in page]
    next_cursor = pagination.encode("log", page[-1].id) if len(rows) > limit else None
    return entries, next_cursor
