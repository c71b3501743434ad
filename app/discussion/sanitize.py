"""Markdown source -> safe HTML for comment bodies: the one place that decides what markup a reader sees.

Choices:
- markdown-it-py ("commonmark" preset): explicit nesting limits and no catastrophic backtracking
  (python-markdown does not have them; figures in docs/performance.md).
- Raw HTML is disabled in the parser: `<b>x</b>` shows as the text `<b>x</b>`. Authors write Markdown,
  and bleach never has to guess what an author meant by hand-written tags.
- Markdown features whose tags the allowlist would strip anyway (headings, rules, images) are switched off,
  so `# title` or `![alt](url)` stay readable as typed instead of silently losing text or alt.
- Only URLs that spell their scheme (https://..., mailto:...) are linkified: `setup.py` or `a@b.example`
  stay text, and every link the reader sees is one the author clearly wrote.
- bleach then cleans the parser's output with ONE allowlist (below) as defence in depth: only absolute
  http, https and mailto links survive, a link without a surviving href is unwrapped to its text, and every
  link gets `rel="nofollow ugc noopener"`.
- Rendering happens once, when a comment is written or edited (and by `flask rerender` when this allowlist
  changes); pages serve the stored HTML, so hostile input costs at most one render.

Bounds (the source itself is capped at MAX_COMMENT_LENGTH, 10,000 code points, by the caller):
- MAX_NESTING caps blockquote/list/inline nesting; markdown-it drops what lies deeper. This also keeps
  html5lib far from Python's recursion limit; should anything still overflow, RenderError -> 422.
- markdown-it-py and html5lib are pure Python, so dense markup is slow to render: the parser charges
  a render budget as it goes (the *_COST constants), and a source over MAX_RENDER_COST, or with more
  than MAX_LINES lines, is shown as plain escaped paragraphs instead: nothing is lost but the
  formatting, and no input can take long (figures in docs/performance.md).
- html5lib decodes character references one by one, so markdown-it's four escapes travel through bleach
  as private-use placeholders and are put back afterwards (the placeholders cannot come from the source).
- Parsing markdown-it's HTML again with html5lib was 60% of bleach's time and a fifth of rendering a
  comment. So bleach's sanitizer filter (the same allowlist, the same filters, the same serializer)
  reads the tokens html5lib would have made of that HTML, built from markdown-it's own token stream
  (``html5lib_mirror``, which mirrors markdown-it's renderer tag for tag and newline for newline). Text and
  attribute values reach the serializer as text, so it escapes them: no markup can come from a
  reader's words. What the mirror does not know (a fence with a language, a link inside a link) sends
  the comment the old way, rendered to HTML and parsed by bleach; tests check both give the same bytes.
"""

import hashlib
import re
import threading
import unicodedata
from html import escape
from html.parser import HTMLParser

from bleach.html5lib_shim import Filter
from bleach.sanitizer import BleachSanitizerFilter, Cleaner
from markdown_it import MarkdownIt
from markdown_it.rules_block.blockquote import blockquote as _upstream_blockquote
from markdown_it.rules_block.reference import reference as _upstream_reference
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_core.state_core import StateCore
from markdown_it.rules_inline.linkify import SCHEME_RE
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

from .html5lib_mirror import ESCAPE_PLACEHOLDERS, Unmirrored, html5lib_tokens

# Levels of block + inline nesting markdown-it builds (a blockquote costs one, a list item two).
MAX_NESTING = 20
# Beyond these the source is rendered as plain paragraphs (see the bounds above).
MAX_LINES = 1000
# Render budget, in units of parse + clean time (docs/performance.md).
MAX_RENDER_COST = 4000
BLOCK_COST = 4  # per block the parser starts (paragraph, list, quote, code ...), to stop deep lists early
TOKEN_COST = 4  # per block token parsed (each open and close tag, each run of inline text)
MARK_COST = 1  # per character that stops markdown-it's text scanner (- : ! \n ...)
TAG_MARK_COST = 5  # extra per emphasis, code or bracket mark and per hard break: each may become a tag
QUOTE_LINE_COST = 1  # per line a quote reads, at each level of nesting
LINK_COST = 24  # extra per URL or link target: normalisation, punycode, an <a> with attributes
MAX_PLAIN_PARAGRAPHS = 100
MAX_SCHEME_LENGTH = 64  # how far back linkify looks for a scheme before "://" (the longest known is 6)

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Only absolute targets: relative and scheme-relative links would point into our own origin.
_ABSOLUTE_URL = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_LINK_TARGETS = re.compile(r"\]\(|https?://|mailto:", re.IGNORECASE)
_TAG_MARKS = re.compile(r"[*_~`\[]|  \n|\\\n")
_LIST_START = re.compile(r"[0-9]{1,9}")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")

# The only escapes markdown-it's renderer emits, and their stand-ins (Supplementary Private Use Area-B).
_ESCAPES = ESCAPE_PLACEHOLDERS
# Unencodable lone surrogates, NUL and our placeholders never reach the parser.
_UNSAFE_CHARS = re.compile("[\x00\ud800-\udfff\U0010fff0-\U0010fff3]")

# Characters that take no room on screen, on top of whitespace, controls and format characters (Cf).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Each distinct non-ASCII character of a text is looked up once, not every character (accented prose).
_NON_ASCII = re.compile("[^\x00-\x7f]")


class RenderError(ValueError):
    """The source could not be rendered safely (pathological input); the caller answers 422."""


class _TooMuchMarkup(Exception):
    """Raised inside the parser when the source is over budget; it is then rendered as plain text."""


def _linkify(state: StateInline, silent: bool) -> bool:
    """markdown-it's linkify rule, except that it looks for the scheme only near the end of the pending text.

    Upstream runs its scheme regex over ALL pending text at every "://", which is quadratic. A scheme is the run of scheme characters just before "://"; a run longer than
    MAX_SCHEME_LENGTH is no scheme linkify knows, so reading that far back decides exactly as upstream.
    The search is bounded, the pending text itself is left whole: `state.push` flushes it as one text token.
    """
    pos = state.pos
    if state.linkLevel > 0 or pos + 3 > state.posMax or not state.src.startswith("://", pos):
        return False
    # With a start position, "^" never matches there: a run filling the whole window finds no scheme.
    match = SCHEME_RE.search(state.pending, max(0, len(state.pending) - MAX_SCHEME_LENGTH - 1))
    if match is None:
        return False
    proto = match.group(1)
    link = state.md.linkify.match_at_start(state.src[pos - len(proto) :])
    if not link:
        return False
    url = link.url.rstrip("*")  # as upstream: a trailing '*' is emphasis, not part of the link
    full_url = state.md.normalizeLink(url)
    if not state.md.validateLink(full_url):
        return False
    if not silent:
        state.pending = state.pending[: -len(proto)]
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": full_url}
        token.markup, token.info = "linkify", "auto"
        token = state.push("text", "", 0)
        token.content = state.md.normalizeLinkText(url)
        token = state.push("link_close", "a", -1)
        token.markup, token.info = "linkify", "auto"
    state.pos += len(url) - len(proto)
    return True


def _charge(env: dict, cost: int) -> None:
    env["render_cost"] = env.get("render_cost", 0) + cost
    if env["render_cost"] > MAX_RENDER_COST:
        raise _TooMuchMarkup


def _count_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    # First block rule, so it runs once per block the parser starts: deep lists stop early.
    _charge(state.env, BLOCK_COST)
    return False


def _priced_reference(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    # A reference definition makes no token but normalises a URL like a link does.
    if not _upstream_reference(state, start_line, end_line, silent):
        return False
    if not silent:
        _charge(state.env, LINK_COST)
    return True


def _priced_blockquote(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    # The quote rule reads every line up to a blank one before it recurses, at each nesting level:
    # charge that reading up front so 20 nested quotes over 1,000 lazy lines stop early.
    start = state.bMarks[start_line] + state.tShift[start_line]
    if not silent and state.src.startswith(">", start):
        blank = _BLANK_LINE.search(state.src, start)
        lines = state.src.count("\n", start, blank.start() if blank else len(state.src))
        _charge(state.env, QUOTE_LINE_COST * min(lines + 1, end_line - start_line))
    return _upstream_blockquote(state, start_line, end_line, silent)


def _charge_tokens(state: StateCore) -> None:
    # Runs between block and inline parsing: the blocks are known, their inline text is not parsed yet.
    _charge(state.env, TOKEN_COST * len(state.tokens))
    terminators = state.md.inline.terminator_re
    for token in state.tokens:
        if token.type == "inline":
            content = token.content
            _charge(
                state.env,
                MARK_COST * len(terminators.findall(content))
                + TAG_MARK_COST * len(_TAG_MARKS.findall(content))
                + LINK_COST * len(_LINK_TARGETS.findall(content)),
            )


def _build_markdown() -> MarkdownIt:
    options = {"html": False, "linkify": True, "typographer": False, "maxNesting": MAX_NESTING}
    markdown = (
        MarkdownIt("commonmark", options)
        .enable(["strikethrough", "linkify"])
        .disable(["heading", "lheading", "hr", "image"])
    )
    markdown.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
    markdown.linkify.add("ftp:", None)
    markdown.linkify.add("//", None)
    markdown.inline.ruler.at("linkify", _linkify)
    markdown.block.ruler.before("code", "causerie_block_cost", _count_block)
    markdown.block.ruler.at("reference", _priced_reference)
    quote_ends = ["paragraph", "reference", "blockquote", "list"]  # what a quote may interrupt, as upstream
    markdown.block.ruler.at("blockquote", _priced_blockquote, {"alt": quote_ends})
    markdown.core.ruler.after("block", "causerie_token_cost", _charge_tokens)
    return markdown


def _is_safe_href(value: str) -> bool:
    return _ABSOLUTE_URL.match(value) is not None


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name == "title" or (name == "href" and _is_safe_href(value))
    if tag == "ol":
        return name == "start" and _LIST_START.fullmatch(value) is not None
    return False


class _LinkPolicy(Filter):
    """Runs after bleach's sanitizer: unwraps links that lost their href, forces rel on the others."""

    def __iter__(self):
        kept_links: list[bool] = []  # one entry per open <a>, True when it is kept
        for token in super().__iter__():
            if token.get("name") == "a" and token["type"] in ("StartTag", "EndTag"):
                if token["type"] == "StartTag":
                    kept = (None, "href") in token["data"]
                    kept_links.append(kept)
                    if not kept:
                        continue
                    token["data"][(None, "rel")] = LINK_REL
                elif not (kept_links.pop() if kept_links else False):
                    continue
            yield token


_markdown = _build_markdown()
_cleaner = Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_LinkPolicy],
)
# bleach's Cleaner keeps parser state between calls; threaded servers take turns (the GIL serialises it anyway).
_cleaner_lock = threading.Lock()


def _clean(html: str) -> str:
    for entity, placeholder in _ESCAPES.items():
        html = html.replace(entity, placeholder)
    with _cleaner_lock:
        html = _cleaner.clean(html)
    return _unplaceholder(html)


def _unplaceholder(html: str) -> str:
    for entity, placeholder in _ESCAPES.items():
        html = html.replace(placeholder, entity)
    return html


def _plain_html(source: str) -> str:
    """Over-budget sources: escaped text in paragraphs, no other markup."""
    paragraphs = [part.strip() for part in _BLANK_LINE.split(source.replace("\r\n", "\n")) if part.strip()]
    if len(paragraphs) > MAX_PLAIN_PARAGRAPHS:
        paragraphs[MAX_PLAIN_PARAGRAPHS - 1 :] = ["\n\n".join(paragraphs[MAX_PLAIN_PARAGRAPHS - 1 :])]
    return "".join(f"<p>{escape(part, quote=False)}</p>\n" for part in paragraphs)


def _parse(source: str) -> list[Token] | None:
    """markdown-it tokens, or None when the source is over budget."""
    if source.count("\n") > MAX_LINES:
        return None
    try:
        return _markdown.parse(source, {})
    except _TooMuchMarkup:
        return None


def _sanitized(tokens: list[Token]) -> str:
    """The sanitized HTML of markdown-it's ``tokens``: as ``_clean`` of their rendering, without
    parsing that rendering again (see the module's docstring)."""
    try:
        stream = html5lib_tokens(tokens)
    except Unmirrored:
        return _clean(_markdown.renderer.render(tokens, _markdown.options, {}))
    with _cleaner_lock:  # what bleach's Cleaner.clean does after its parse, on the same settings
        cleaner = _cleaner
        filtered = BleachSanitizerFilter(
            source=iter(stream), allowed_tags=cleaner.tags, attributes=cleaner.attributes,
            strip_disallowed_tags=cleaner.strip, strip_html_comments=cleaner.strip_comments,
            css_sanitizer=cleaner.css_sanitizer, allowed_protocols=cleaner.protocols)
        for filter_class in cleaner.filters:
            filtered = filter_class(source=filtered)
        html = cleaner.serializer.render(filtered)
    return _unplaceholder(html)


def _count_safe_links(tokens: list[Token]) -> int:
    count = 0
    for block in tokens:
        for token in block.children or ():
            if token.type == "link_open" and _is_safe_href(str(token.attrGet("href") or "")):
                count += 1
    return count


def render_with_links(source: str) -> tuple[str, int]:
    """Render once and count the links of that same parse (for the max_links rule)."""
    source = _UNSAFE_CHARS.sub("\ufffd", source)
    try:
        tokens = _parse(source)
        if tokens is None:
            return _clean(_plain_html(source)), len(_ABSOLUTE_URL.findall(source))
        html = _sanitized(tokens)
    except RecursionError as error:
        raise RenderError("comment too deeply nested to render") from error
    return html, _count_safe_links(tokens)


def render(source: str) -> str:
    """Markdown source -> sanitized HTML, ready to store as body_html."""
    return render_with_links(source)[0]


def render_stored(source: str) -> tuple[str, int]:
    """The exact body_html stored for ``source`` and its link count: posting, editing and `flask rerender`
    all call this, so rendering an unchanged comment again gives the same bytes."""
    html, links = render_with_links(source)
    return html.strip(), links


def count_links(source: str) -> int:
    """Links a reader can follow: Markdown links, <autolinks> and bare http(s)/mailto URLs.

    Relative links count for nothing (they are unwrapped to text); over-budget sources shown as plain
    text still count every URL in them, so markup cannot hide links from the max_links rule.
    """
    source = _UNSAFE_CHARS.sub("\ufffd", source)
    try:
        tokens = _parse(source)
    except RecursionError as error:
        raise RenderError("comment too deeply nested to parse") from error
    if tokens is None:
        return len(_ABSOLUTE_URL.findall(source))
    return _count_safe_links(tokens)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _is_visible(char: str) -> bool:
    if char.isspace() or char in _INVISIBLE:
        return False
    return unicodedata.category(char) not in ("Cc", "Cf", "Zs", "Zl", "Zp")


def shown_text(html: str) -> str:
    """The text a reader sees in rendered HTML: tags dropped, entities decoded. Read once, it serves
    both ``is_blank_text`` and ``key_of_text`` (parsing is most of either)."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


def is_blank(html: str) -> bool:
    """True when rendered HTML shows no text (empty paragraphs, &nbsp;, zero-width characters)."""
    return is_blank_text(shown_text(html))


def is_blank_text(text: str) -> bool:
    """``is_blank`` of the ``shown_text`` of some HTML."""
    return not any(_is_visible(char) for char in text)


def text_key(html: str) -> str:
    """SHA-256 (hex) of the text a reader sees in rendered HTML, so that markup, entities, invisible
    characters, compatibility forms, spacing and case cannot make one text look like two (the
    duplicate check keys on it)."""
    return key_of_text(shown_text(html))


def key_of_text(text: str) -> str:
    """``text_key`` of the ``shown_text`` of some HTML."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():  # the invisible characters and format controls (Cf) are none of them ASCII
        hidden = {char for char in set(_NON_ASCII.findall(text))
                  if char in _INVISIBLE or unicodedata.category(char) == "Cf"}
        if hidden:
            text = text.translate(dict.fromkeys(map(ord, hidden)))
    text = " ".join(text.split()).casefold()
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
