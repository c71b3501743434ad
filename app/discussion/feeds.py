"""Atom feeds (RFC 4287) of approved comments: which entries, their validators, and the XML.

A feed holds the 50 newest approved comments (of one article, or of every article for the recent
feed), newest first; replies carry ``thr:in-reply-to`` (RFC 4685) naming their parent's entry. The
content is the stored sanitized ``body_html``, sent as ``type="html"`` (escaped text, never markup
of the feed itself). Nothing else is ever shown: pending, rejected, spam and deleted comments are
not entries, and a comment rejected or deleted later is gone from the next answer.

Validators:
- an article's feed: its ETag is the article's ``version`` (bumped by every write to the thread,
  ``lifecycle.thread_changed``) with its title and url, so a conditional request costs one query;
  its bytes are kept in the page cache under the same key, so they follow the thread pages'
  invalidation rules. Last-Modified is the last change to any of its comments (a post, a status
  change of any kind, an edit), not just the newest entry: a rejection moves it forward.
- the recent feed: its ETag is a digest of the entries themselves (one index-ordered query of at
  most 50 rows), exact by construction; Last-Modified is the newest entry's time or the last status
  change anywhere (five index look-ups), whichever is later.

Ids are tag URIs (RFC 4151) on the public host: ``tag:HOST,2026:causerie:comment:ID`` for an entry
(the same entry has the same id in both feeds), ``tag:HOST,2026:causerie:feed:article:KEY`` and
``tag:HOST,2026:causerie:feed:recent`` for the feeds.
"""
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit
from xml.etree import ElementTree

from sqlalchemy import bindparam, func, select

from ..database import run
from ..errors import not_found
from ..models import Article, Comment, Status, User
from ..timeutil import isoformat
from .page_cache import pages

MAX_ENTRIES = 50
ATOM_NS = "http://www.w3.org/2005/Atom"
THREAD_NS = "http://purl.org/syndication/thread/1.0"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# The name of an entry whose author's account is gone (the widget's English "[deleted]").
DELETED_AUTHOR = "[deleted]"
TAG_DATE = "2026"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Head:
    """What an article's feed needs before deciding whether to build anything."""
    id: int
    key: str
    title: str
    url: str
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    parent_id: int | None
    html: str
    published: datetime
    updated: datetime
    author: str
    article_key: str
    article_title: str
    article_url: str


@dataclass(frozen=True, slots=True)
class Links:
    """Where the feeds and the comments are: ``base`` is the service's public root (PUBLIC_URL)."""
    base: str

    @property
    def host(self) -> str:
        return (urlsplit(self.base).hostname or "localhost").lower()

    def tag(self, name: str) -> str:
        return f"tag:{self.host},{TAG_DATE}:causerie:{name}"

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path

    def page(self, key: str, url: str) -> str:
        """The article's page on the publisher's site, or the demo page embedding it when it has no url."""
        return url.split("#")[0] if url else self.url(f"/demo/{key}")

    def comment(self, key: str, url: str, comment_id: int) -> str:
        """The comment on the article's page (the same ``#comment-ID`` as the notification e-mails)."""
        return f"{self.page(key, url)}#comment-{comment_id}"


_HEAD = (select(Article.id, Article.key, Article.title, Article.url, Article.version, Article.created_at)
         .where(Article.key == bindparam("key")))

_ENTRY = (Comment.id, Comment.parent_id, Comment.body_html, Comment.created_at, Comment.edited_at,
          User.display_name, Article.key, Article.title, Article.url)


def _entries_query():
    return (select(*_ENTRY).join(Article, Article.id == Comment.article_id)
            .outerjoin(User, User.id == Comment.author_id)
            .where(Comment.status == Status.APPROVED)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(MAX_ENTRIES))


_ARTICLE_ENTRIES = _entries_query().where(Comment.article_id == bindparam("article_id"))
_RECENT_ENTRIES = _entries_query()
# Every post, status change and edit sets one of these on the comment it touches.
_ARTICLE_CHANGED = (select(func.max(Comment.decided_at), func.max(Comment.edited_at))
                    .where(Comment.article_id == bindparam("article_id")))
# The last status change anywhere: one look-up per status in ix_comments_queue (status, decided_at).
_LAST_DECISION = select(*(select(func.max(Comment.decided_at)).where(Comment.status == status)
                          .scalar_subquery() for status in Status))


def article_head(key: str) -> Head:
    """The article ``key`` (one query); 404 when there is none."""
    row = run(_HEAD, {"key": key}).first()
    if row is None:
        raise not_found("No such article.")
    return Head(*row)


def article_etag(head: Head, links: Links) -> str:
    digest = _digest(head.version, head.title, head.url, links.base)
    return f"a{head.id}-{head.version}-{digest}"


def article_feed(head: Head, links: Links) -> tuple[bytes, datetime]:
    """The article's feed document and its Last-Modified, from the page cache when this version's is there."""
    key = (head.id, head.version, "atom", article_etag(head, links))
    cache = pages()
    packed = cache.get(key)
    if packed is None:
        document, changed = _build_article_feed(head, links)
        packed = changed.isoformat().encode() + b"\n" + document
        cache.put(key, packed)
    stamp, _, document = packed.partition(b"\n")
    return document, datetime.fromisoformat(stamp.decode())


def recent_feed(links: Links) -> tuple[bytes, str, datetime]:
    """The recent feed document, its ETag and its Last-Modified (two queries, then the cache)."""
    entries = _entries(run(_RECENT_ENTRIES))
    decisions = [moment for moment in run(_LAST_DECISION).one() if moment is not None]
    changed = max([entry.updated for entry in entries] + decisions, default=_EPOCH)
    etag = "r-" + _digest(links.base, changed, *(field for entry in entries for field in _fields(entry)))
    key = ("atom-recent", etag)
    cache = pages()
    document = cache.get(key)
    if document is None:
        feed = ElementTree.Element("feed", {"xmlns": ATOM_NS, "xmlns:thr": THREAD_NS})
        _feed_head(feed, links.tag("feed:recent"), "Recent comments", links.url("/feeds/recent.atom"),
                   links.url("/"), changed)
        for entry in entries:
            _entry(feed, entry, links, f"{entry.author} on {entry.article_title or entry.article_key}")
        document = _serialize(feed)
        cache.put(key, document)
    return document, etag, changed


def _build_article_feed(head: Head, links: Links) -> tuple[bytes, datetime]:
    entries = _entries(run(_ARTICLE_ENTRIES, {"article_id": head.id}))
    moments = [moment for moment in run(_ARTICLE_CHANGED, {"article_id": head.id}).one() if moment]
    changed = max([head.created_at, *moments, *(entry.updated for entry in entries)])
    feed = ElementTree.Element("feed", {"xmlns": ATOM_NS, "xmlns:thr": THREAD_NS})
    _feed_head(feed, links.tag(f"feed:article:{head.key}"), f"Comments on {head.title or head.key}",
               links.url(f"/feeds/articles/{head.key}.atom"), links.page(head.key, head.url), changed)
    for entry in entries:
        _entry(feed, entry, links, f"Comment by {entry.author}")
    return _serialize(feed), changed


def _entries(rows) -> list[Entry]:
    return [Entry(comment_id, parent_id, html or "", created_at, edited_at or created_at,
                  display_name if display_name is not None else DELETED_AUTHOR, key, title or "", url or "")
            for comment_id, parent_id, html, created_at, edited_at, display_name, key, title, url in rows]


def _fields(entry: Entry) -> tuple:
    return (entry.id, entry.parent_id, entry.html, entry.updated.isoformat(), entry.author,
            entry.article_key, entry.article_title, entry.article_url)


def _digest(*parts) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(repr(part).encode("utf-8", "surrogatepass"))
        hashed.update(b"\x1f")
    return hashed.hexdigest()[:24]


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _add(parent, tag: str, text: str | None = None, **attributes) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, {name.replace("__", ":"): _text(value)
                                                   for name, value in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _feed_head(feed, feed_id: str, title: str, self_url: str, page_url: str, updated: datetime) -> None:
    _add(feed, "id", feed_id)
    _add(feed, "title", title)
    _add(feed, "updated", isoformat(updated))
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=page_url)
    _add(feed, "generator", "Causerie")


def _entry(feed, entry: Entry, links: Links, title: str) -> None:
    element = _add(feed, "entry")
    _add(element, "id", links.tag(f"comment:{entry.id}"))
    _add(element, "title", title)
    author = _add(element, "author")
    _add(author, "name", entry.author)
    _add(element, "published", isoformat(entry.published))
    _add(element, "updated", isoformat(entry.updated))
    _add(element, "link", rel="alternate", type="text/html",
         href=links.comment(entry.article_key, entry.article_url, entry.id))
    if entry.parent_id is not None:
        _add(element, "thr:in-reply-to", ref=links.tag(f"comment:{entry.parent_id}"), type="text/html",
             href=links.comment(entry.article_key, entry.article_url, entry.parent_id))
    _add(element, "content", entry.html, type="html")


def _serialize(feed) -> bytes:
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
