"""Articles: lookup, implicit creation from an allowed host page, updates and counts."""
import re
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .errors import not_found, validation_error
from .extensions import db
from .models import Article

KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}")
MAX_COUNT_KEYS = 100


def get_article(key: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.key == key))


def get_article_or_404(key: str) -> Article:
    article = get_article(key)
    if article is None:
        raise not_found("No such article.")
    return article


def thread_head(key: str):
    """What reading a thread needs of the article ``key`` (id, key, version, comment_count), as one
    light row; 404 when unknown."""
    row = db.session.connection().execute(
        select(Article.id, Article.key, Article.version, Article.comment_count)
        .where(Article.key == key)).first()
    if row is None:
        raise not_found("No such article.")
    return row


def check_url(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "must be an absolute http or https URL"
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        return "must be an absolute http or https URL"
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "must not contain spaces or control characters"
    return None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def find_or_create_article(key: str, title: str | None, url: str | None,
                           auto_create: bool, allowed_origins: list[str]) -> Article:
    """The article ``key``, created when the host page's url is on an allowed origin.

    An unknown key is 404 unless creation is allowed; a malformed url is 422.
    """
    article = get_article(key)
    if article is not None:
        return article
    if url is None or not auto_create:
        raise not_found("No such article.")
    if reason := check_url(url):
        raise validation_error({"url": reason})
    if origin_of(url) not in [o.lower() for o in allowed_origins]:
        raise not_found("No such article.")
    try:
        # Inside the savepoint: a concurrent creation of the same key then undoes only this insert.
        with db.session.begin_nested():
            article = Article(key=key, title=(title or key)[:300], url=url)
            db.session.add(article)
    except IntegrityError:
        # Created at the same moment by another request.
        article = get_article_or_404(key)
    return article


def save_article(key: str, fields: dict) -> tuple[Article, bool]:
    """Create or update the article ``key`` with the given fields; returns it and whether it is new."""
    article = get_article(key)
    created = article is None
    if created:
        article = Article(key=key, title="", url="")
        db.session.add(article)
    update_article(article, fields)
    return article, created


def update_article(article: Article, fields: dict) -> Article:
    for name in ("title", "url", "status", "moderation"):
        if fields.get(name) is not None:
            setattr(article, name, fields[name])
    db.session.flush()
    return article


def list_articles(limit: int, after: tuple | None) -> list[Article]:
    query = select(Article).order_by(Article.created_at.desc(), Article.id.desc()).limit(limit + 1)
    if after is not None:
        created_at, article_id = after
        query = query.where(
            (Article.created_at < created_at)
            | ((Article.created_at == created_at) & (Article.id < article_id))
        )
    return list(db.session.scalars(query))


def comment_counts(keys: list[str]) -> dict[str, int]:
    """Approved comments per key, unknown keys 0, in one query."""
    rows = db.session.execute(select(Article.key, Article.comment_count).where(Article.key.in_(keys)))
    found = dict(rows.all())
    return {key: found.get(key, 0) for key in keys}
