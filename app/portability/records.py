"""What every source hands the importer (threads, authors, comments) and the pure conversions they
share: article keys from identifiers and URLs, HTML to our Markdown source, the import's report.

Nothing here touches the database.
"""
import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from markdownify import MarkdownConverter

from ..discussion.articles import KEY_RE
from ..discussion.sanitize import is_blank_text, key_of_text, render_stored, shown_text
from ..text import clean_multiline

# A body longer than this many times MAX_COMMENT_LENGTH is cut, with a note saying so.
LONG_BODY_FACTOR = 10
SKIP_REASONS = ("deleted", "pingback", "trackback", "orphan", "duplicate", "empty", "unrenderable", "other")


@dataclass(slots=True)
class Thread:
    """An article of the source: its own id, its identifier (Disqus ``<id>``, WordPress post id), URL, title."""
    source_id: str
    identifier: str = ""
    url: str = ""
    title: str = ""
    created_at: datetime | None = None
    closed: bool = False  # comments closed there: a new article is made closed


@dataclass(slots=True)
class Author:
    """Who wrote a comment. ``handle`` is the source's account (Disqus username, WordPress user id):
    the same handle is one author whatever name it signs; guests are one author per name + e-mail."""
    name: str = ""
    email: str = ""
    handle: str = ""
    login: str = ""  # a username to start from (Disqus username), if any

    def key(self) -> str | None:
        if self.handle:
            return "u:" + self.handle.casefold()
        if self.name.strip() or self.email.strip():
            return "g:" + " ".join(self.name.split()).casefold() + "\x00" + self.email.strip().lower()
        return None  # no name, no e-mail: the comment has no author (author null)


@dataclass(slots=True)
class Item:
    """One comment of the source. ``skip`` names why it is not imported (it still becomes a tombstone
    if it has replies); otherwise ``status`` is approved, pending or spam."""
    source_id: str
    thread: Thread | None
    parent_id: str | None
    author: Author | None
    created_at: datetime | None  # None: unreadable in the source (the importer dates it, and counts it)
    body: str
    html: bool  # the body is HTML (Disqus, WordPress), not Markdown (Isso)
    status: str = "approved"
    skip: str | None = None
    upvotes: int = 0
    downvotes: int = 0


@dataclass
class Report:
    """What an import did (or, with --dry-run, would do)."""
    articles: int = 0
    comments: Counter = field(default_factory=Counter)  # imported, by status
    authors: int = 0
    tombstones: int = 0
    skipped: Counter = field(default_factory=Counter)  # by reason
    capped: int = 0  # replies attached at MAX_DEPTH
    long: int = 0  # bodies over MAX_COMMENT_LENGTH, imported as they are
    truncated: int = 0  # bodies over LONG_BODY_FACTOR x MAX_COMMENT_LENGTH, cut with a note
    undated: int = 0  # comments whose date was unreadable: dated as their article
    elsewhere: int = 0  # replies to a comment of another thread: top-level in their own

    def lines(self, dry_run: bool, complete: bool = True) -> list[str]:
        statuses = ", ".join(f"{status} {n}" for status, n in sorted(self.comments.items())) or "none"
        skipped = ", ".join(f"{reason} {self.skipped[reason]}" for reason in SKIP_REASONS)
        return [
            "Dry run: nothing was written." if dry_run else "Import done." if complete else (
                "Import stopped by an error in the file; what was read before it is imported:"),
            f"articles: {self.articles} new",
            f"comments: {sum(self.comments.values())} imported ({statuses}); {self.tombstones} tombstones",
            f"authors: {self.authors} new accounts",
            f"skipped: {skipped}",
            f"replies attached at the maximum depth: {self.capped}; long bodies kept: {self.long}, "
            f"cut: {self.truncated}; unreadable dates: {self.undated} (dated as their article); "
            f"replies to another thread's comment: {self.elsewhere} (top-level in their own)",
        ]


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 or ``YYYY-MM-DD HH:MM:SS`` time, read as UTC when it says no zone; None if unreadable."""
    text = (text or "").strip()
    if not text or text.startswith("0000"):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# -- article keys ---------------------------------------------------------------------------------

_NOT_KEY = re.compile(r"[^A-Za-z0-9._:\-]+")
_ABSOLUTE_URL = re.compile(r"https?://[^/\s]", re.IGNORECASE)
_INDEX_PAGE = re.compile(r"/index\.(?:html?|php)$", re.IGNORECASE)
# Query parameters that name the page itself: WordPress's plain permalinks (/?p=123, /?page_id=2).
# They are kept; every other parameter (utm_*, replytocom, amp ...) is dropped.
_PAGE_PARAMETERS = frozenset({"p", "page_id"})


def normalise_url(url: str) -> str:
    """host + path: no scheme (http and https are one page), no fragment, no trailing ``index.html``,
    ``index.php`` or slash, the host lower-cased and the path's escapes made canonical; of the query
    only the parameters that name a page (``_PAGE_PARAMETERS``), so that every post of a blog with
    plain permalinks (``/?p=4``) does not become one article."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    if port and port not in (80, 443):
        host += f":{port}"
    path = quote(unquote(_INDEX_PAGE.sub("/", parts.path)), safe="/")
    page = "&".join(f"{name}={quote(value, safe='')}" for name, value in sorted(parse_qsl(parts.query))
                    if name in _PAGE_PARAMETERS and value)
    return host + path.rstrip("/") + (f"?{page}" if page else "")


def key_from_text(text: str) -> str | None:
    """A valid article key from any text, always the same for the same text: every run of other
    characters becomes ``-``; a key over 200 characters is cut and ends with a hash of the text."""
    cleaned = _NOT_KEY.sub("-", text).strip("-._:")
    if not cleaned:
        return None
    if len(cleaned) > 200:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        cleaned = cleaned[:189].rstrip("-._:") + "-" + digest
    return cleaned


def article_key(thread: Thread, mode: str) -> str | None:
    """The key of ``thread``: its identifier (``mode`` identifier) or its normalised URL (``mode`` url),
    the other one when the chosen one is empty; None when it has neither."""
    identifier = thread.identifier.strip()
    from_url = key_from_text(normalise_url(thread.url)) if thread.url.strip() else None
    if thread.url.strip() and from_url is None:
        from_url = "index"  # the site's home page: "/" or "https://blog.example/" without a host part
    from_identifier = None
    if _ABSOLUTE_URL.match(identifier):  # sites that give Disqus the page's URL as its identifier
        from_identifier = key_from_text(normalise_url(identifier))
    elif identifier:
        from_identifier = identifier if KEY_RE.fullmatch(identifier) else key_from_text(identifier)
    first, second = (from_identifier, from_url) if mode == "identifier" else (from_url, from_identifier)
    return first or second


# -- bodies ---------------------------------------------------------------------------------------

class _Converter(MarkdownConverter):
    def convert_a(self, el, text, parent_tags=None, **kwargs):
        """A link our sanitizer would refuse (javascript:, relative) keeps only its text."""
        if not (el.attrs.get("href") or "").strip().lower().startswith(("http://", "https://", "mailto:")):
            return text
        return super().convert_a(el, text, parent_tags=parent_tags, **kwargs)

    def convert_img(self, el, text, parent_tags=None, **_):
        """Our Markdown shows no images: an image becomes a link to it (or its alt text)."""
        alt = " ".join((el.attrs.get("alt") or "").split())
        src = el.attrs.get("src") or ""
        if src.startswith(("http://", "https://")):
            return f"[{alt or 'image'}]({src})"
        return alt


# escape_misc: text that reads as Markdown (``1986. A year``, ``> x``, ``- x``, backticks, brackets)
# stays the text the source showed, not a list, quote or code span.
_CONVERTER = _Converter(heading_style="ATX", bullets="-", escape_misc=True)
_BLOCK_TAGS = re.compile(r"<(?:p|div|br|ul|ol|blockquote|pre|h[1-6]|table)\b", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def paragraphs(html: str) -> str:
    """WordPress keeps a comment's line breaks as typed and adds paragraphs when showing it (wpautop):
    do the same before converting, unless the text has its own block tags."""
    if _BLOCK_TAGS.search(html):
        return html
    blocks = [block.strip() for block in _BLANK_LINES.split(html.strip()) if block.strip()]
    return "".join("<p>" + block.replace("\n", "<br>\n") + "</p>" for block in blocks)


def to_markdown(body: str, is_html: bool) -> str:
    """Our Markdown source for a body of the source: HTML is converted; Markdown (Isso) is kept."""
    text = _CONVERTER.convert(body) if is_html else body
    text = clean_multiline(text.replace("\x00", ""))
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


@dataclass(slots=True)
class Body:
    source: str
    html: str
    long: bool
    truncated: bool
    key: str  # sanitize.text_key(html), for the duplicate check


def prepare(body: str, is_html: bool, max_length: int) -> Body | None:
    """The stored source, its sanitized HTML (``render_stored``, the one sanitizer) and text key, or
    None when nothing visible is left. Longer than ``max_length`` (MAX_COMMENT_LENGTH, the limit of
    new posts) is kept as it is, up to LONG_BODY_FACTOR times that; beyond, it is cut with a note."""
    source = to_markdown(body, is_html)
    long = len(source) > max_length
    limit = LONG_BODY_FACTOR * max_length
    truncated = len(source) > limit
    if truncated:
        source = (source[:limit].rstrip() + f"\n\n[…] (cut on import: the original had "
                  f"{len(source)} characters)")
    if not source:
        return None
    html = render_stored(source)[0]
    text = shown_text(html)
    if is_blank_text(text):
        return None
    return Body(source, html, long, truncated, key_of_text(text))


def prepare_or_reason(body: str, is_html: bool, max_length: int) -> Body | str:
    """``prepare``, or the reason there is no body: ``empty``, or ``unrenderable`` when rendering
    fails in any way (one hostile or broken body is reported and skipped, it never stops an import)."""
    try:
        prepared = prepare(body, is_html, max_length)
    except Exception:  # noqa: BLE001 - RenderError, RecursionError, or a bug met by one odd body
        return "unrenderable"
    return "empty" if prepared is None else prepared


def plain_name(text: str) -> str:
    """ASCII letters, digits and ``_ . -`` only, for deriving a username."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("_.-")[:24]
