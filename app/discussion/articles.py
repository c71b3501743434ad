"""Articles: lookup, implicit creation from an allowed host page, updates and counts."""
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import pagination
from ..database import RowLoader, run, writing
from ..errors import not_found, validation_error
from ..extensions import db
from ..models import Article, ArticleModeration, ArticleStatus
from .lifecycle import thread_changed

# An article key: 1-200 of A-Z a-z 0-9 . _ : -, starting with a letter or digit. The URL converter,
# the OpenAPI document and the dashboard's filter all use this pattern.
KEY_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}"
KEY_RE = re.compile(KEY_PATTERN)
MAX_COUNT_KEYS = 100


_ARTICLE_BY_KEY = select(Article).where(Article.key == bindparam("key"))
_ARTICLES = RowLoader(Article)
# The article ``key``'s row, read as Core: a post reads it beside its caller (web.caller.caller_and).
ARTICLE_ROW = select(*_ARTICLES.columns).where(Article.key == bindparam("key"))


def get_article(key: str) -> Article | None:
    return db.session.scalar(_ARTICLE_BY_KEY, {"key": key})


def article_found(row) -> Article | None:
    """The Article of an ``ARTICLE_ROW`` row, in the session as if it had loaded it; None for None."""
    return None if row is None else _ARTICLES.load(row)


def get_article_or_404(key: str) -> Article:
    article = get_article(key)
    if article is None:
        raise not_found("No such article.")
    return article


class ThreadHead(NamedTuple):
    """What reading a thread needs of its article."""
    id: int
    key: str
    version: int
    comment_count: int


# Every page view runs this query (an anonymous one nothing else: page_cache; a logged-in one reads the
# caller beside it: web.caller.caller_and), so it skips the ORM and the Session (docs/performance.md).
THREAD_HEAD = (select(Article.id, Article.key, Article.version, Article.comment_count)
               .where(Article.key == bindparam("key")))


def thread_head(key: str) -> ThreadHead:
    """The article ``key`` as one light row (id, key, version, comment_count); 404 when unknown."""
    rows = run(THREAD_HEAD, {"key": key}, own_connection=True)
    return head_found(rows[0] if rows else None)


def head_found(row) -> ThreadHead:
    """The ThreadHead of a ``THREAD_HEAD`` row; 404 when the article is unknown (None)."""
    if row is None:
        raise not_found("No such article.")
    return ThreadHead(*row)


def article_filter(key: str | None) -> Article | None:
    """The article a moderator's ``article=`` filter names: None when absent, 422 when malformed,
    404 when unknown."""
    if not key:
        return None
    if not KEY_RE.fullmatch(key):
        raise validation_error({"article": "is not a valid article key"})
    return get_article_or_404(key)


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


def find_or_new_article(key: str, title: str | None, url: str | None,
                        auto_create: bool, allowed_origins: list[str], seen_on_page: bool = False) -> Article:
    """The article ``key``, or a new one not yet saved (``id`` None) when the host page's url is on
    an allowed origin; only reads. An unknown key is 404 unless creation is allowed; a malformed
    url is 422. ``save_new_article`` saves a new one; its title and url are provisional unless
    ``seen_on_page`` (see ``on_host_page``).
    """
    return get_article(key) or new_article(key, title, url, auto_create, allowed_origins, seen_on_page)


def new_article(key: str, title: str | None, url: str | None, auto_create: bool, allowed_origins: list[str],
                seen_on_page: bool = False) -> Article:
    """The article ``key``, which is not stored, as ``find_or_new_article`` makes it: not yet saved
    (``id`` None), or 404 (422 for a malformed url)."""
    if url is None or not auto_create:
        raise not_found("No such article.")
    if reason := check_url(url):
        raise validation_error({"url": reason})
    if origin_of(url) not in [o.lower() for o in allowed_origins]:
        raise not_found("No such article.")
    # Column defaults apply only on insert: set the ones the checks before it read.
    return Article(key=key, title=(title or key)[:300], url=url, status=ArticleStatus.OPEN,
                   moderation=ArticleModeration.INHERIT,
                   meta_source="page" if seen_on_page else "view")


def on_host_page(url: str | None, referer: str | None, allowed_origins: list[str]) -> bool:
    """Whether a view of the thread comes from the page ``url`` names, as its browser tells it: a
    frame's Referer is the host page (or only its origin, under the default Referrer-Policy).
    A script can forge it; a browser on another site cannot."""
    if not url or not referer or check_url(url) or check_url(referer):
        return False
    origin = origin_of(url)
    return origin == origin_of(referer) and origin in [o.lower() for o in allowed_origins]


def is_provisional(article: Article) -> bool:
    """Whether the title and url are a first view's guess, still to be corrected by the host page."""
    return article.meta_source == "view"


def correct_provisional(article: Article, title: str | None, url: str | None, seen_on_page: bool) -> bool:
    """Replace the title and url a first view guessed with the host page's own, once; never those
    an admin set. Costs nothing (no query) unless there is something to correct. True if it did."""
    if not seen_on_page or not is_provisional(article):
        return False
    values = {"title": (title or article.key)[:300], "url": url, "meta_source": "page"}
    # Guarded in SQL: an admin's PUT that lands meanwhile wins.
    done = db.session.execute(
        update(Article).where(Article.id == article.id, Article.meta_source == "view").values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if done:
        for name, value in values.items():
            set_committed_value(article, name, value)
    return bool(done)


def save_new_article(article: Article) -> Article:
    """Insert an article made by ``find_or_new_article``; the stored one if another request won."""
    try:
        # Inside the savepoint: a concurrent creation of the same key then undoes only this insert.
        with db.session.begin_nested():
            db.session.add(article)
    except IntegrityError:
        # Created at the same moment by another request.
        article = get_article_or_404(article.key)
    return article


class ThreadVisit(NamedTuple):
    """A view of the framed thread (``find_for_view``): what it shows, and what showing it writes."""
    article: Article
    title: str | None
    url: str | None
    seen_on_page: bool

    @property
    def creates(self) -> bool:
        return self.article.id is None

    @property
    def writes(self) -> bool:
        return self.creates or (self.seen_on_page and is_provisional(self.article))


def find_for_view(key: str, title: str | None, url: str | None, referer: str | None,
                  auto_create: bool, allowed_origins: list[str]) -> ThreadVisit:
    """The article a view of the framed thread shows (404 for a malformed or unknown key, as in
    ``find_or_new_article``); only reads. When ``visit.writes``, ``open_for_view`` does the write."""
    if not KEY_RE.fullmatch(key):
        raise not_found("No such article.")
    seen_on_page = on_host_page(url, referer, allowed_origins)
    article = find_or_new_article(key, title, url, auto_create, allowed_origins, seen_on_page)
    return ThreadVisit(article, title, url, seen_on_page)


def open_for_view(visit: ThreadVisit) -> Article:
    """WRITES on a GET: saves the article a first view creates, or corrects the provisional title
    and url of one with the host page's own. Flushes; the caller commits."""
    with writing():
        if visit.creates:
            return save_new_article(visit.article)
        correct_provisional(visit.article, visit.title, visit.url, visit.seen_on_page)
        return visit.article


def _checked_url(fields: dict) -> dict:
    if fields.get("url") is not None and (reason := check_url(fields["url"])):
        raise validation_error({"url": reason})
    return fields


def save_article(key: str, fields: dict) -> tuple[Article, bool]:
    """Create or update the article ``key`` with the given fields; returns it and whether it is new."""
    _checked_url(fields)
    with writing():
        article = get_article(key)
        created = article is None
        if created:
            article = Article(key=key, title="", url="")
            db.session.add(article)
        update_article(article, fields)
    return article, created


def change_article(key: str, fields: dict) -> Article:
    """Update the existing article ``key`` (422 for a bad url, then 404 when unknown)."""
    _checked_url(fields)
    with writing():
        return update_article(get_article_or_404(key), fields)


def update_article(article: Article, fields: dict) -> Article:
    reopened_or_closed = fields.get("status") is not None and fields["status"] != article.status
    for name in ("title", "url", "status", "moderation"):
        if fields.get(name) is not None:
            setattr(article, name, fields[name])
    if fields.get("title") is not None or fields.get("url") is not None:
        article.meta_source = "admin"  # views never change them again
    db.session.flush()
    if reopened_or_closed:
        thread_changed(article.id)
    return article


def articles_page(limit: int, after: str | None) -> tuple[list[Article], str | None]:
    """A page of articles, newest first, after the cursor ``after``; with the next page's cursor."""
    position = pagination.decode("articles", after)
    if position is not None:
        position = (pagination.to_datetime(position[0]), position[1])
    rows = list_articles(limit, position)
    page = rows[:limit]
    more = len(rows) > limit
    return page, pagination.encode("articles", page[-1].created_at, page[-1].id) if more else None


def list_articles(limit: int, after: tuple | None) -> list[Article]:
    query = select(Article).order_by(Article.created_at.desc(), Article.id.desc()).limit(limit + 1)
    if after is not None:
        created_at, article_id = after
        query = query.where(
            (Article.created_at < created_at)
            | ((Article.created_at == created_at) & (Article.id < article_id))
        )
    return list(db.session.scalars(query))


_COUNTS = select(Article.key, Article.comment_count).where(Article.key.in_(bindparam("keys", expanding=True)))


def comment_counts(keys: list[str]) -> dict[str, int]:
    """Approved comments per key, unknown keys 0, in one query (prebuilt and run as Core: host
    pages ask for dozens of keys on every view of a front page)."""
    found = dict(run(_COUNTS, {"keys": keys}).all())
    return {key: found.get(key, 0) for key in keys}


def counts_for(keys_param: str) -> dict[str, int]:
    """Approved comments per key of the comma-separated ``keys_param``, in the order given and
    without repeats; 422 beyond MAX_COUNT_KEYS keys, 0 for a malformed or unknown key."""
    keys = list(dict.fromkeys(k for k in keys_param.split(",") if k))
    if len(keys) > MAX_COUNT_KEYS:
        raise validation_error({"keys": f"at most {MAX_COUNT_KEYS} keys"})
    valid = [k for k in keys if KEY_RE.fullmatch(k)]
    found = comment_counts(valid) if valid else {}
    return {k: found.get(k, 0) for k in keys}
