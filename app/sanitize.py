"""Markdown source -> safe HTML for comment bodies: the one place that decides what markup a reader sees.

Choices:
- markdown-it-py ("commonmark" preset) parses in linear time with explicit nesting limits, where
  python-markdown spends seconds on inputs like `[a](` x 5000 (bad-requests.md S14).
- Raw HTML is disabled in the parser: `<b>x</b>` shows as the text `<b>x</b>`. Authors write Markdown,
  and bleach never has to guess what an author meant by hand-written tags.
- Markdown features whose tags the allowlist would strip anyway (headings, rules, images) are switched off,
  so `# title` or `![alt](url)` stay readable as typed instead of silently losing their text or alt.
- bleach then cleans the parser's output with ONE allowlist (below) as defence in depth: only absolute
  http, https and mailto links survive, a link without a surviving href is unwrapped to its text, and every
  link gets `rel="nofollow ugc noopener"`.
- Rendering happens once, when a comment is written or edited (and by `flask rerender` when this allowlist
  changes); pages serve the stored HTML, so hostile input costs at most one render.
- Bounds: MAX_NESTING caps blockquote/list/inline nesting (deeper content is dropped by markdown-it), which
  also keeps bleach/html5lib far from Python's recursion limit. Callers cap the source at
  MAX_COMMENT_LENGTH (10,000 code points); every S14 pattern at that size renders in a few milliseconds
  (scripts/bench_render.py). Should anything still overflow the stack, RenderError lets the caller answer 422.
"""

import re
import unicodedata
from html import unescape

from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt
from markdown_it.token import Token

# Levels of block + inline nesting markdown-it will build (a blockquote or a list item costs one or two).
MAX_NESTING = 20

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Only absolute targets: relative and scheme-relative links would point into our own origin.
_SAFE_HREF = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_LIST_START = re.compile(r"[0-9]{1,9}")
# Characters that take no room on screen, on top of whitespace, controls and format characters (Cf).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_TAG = re.compile(r"<[^>]*>")


class RenderError(ValueError):
    """The source could not be rendered safely (pathological input); the caller answers 422."""


def _build_markdown() -> MarkdownIt:
    options = {"html": False, "linkify": True, "typographer": False, "maxNesting": MAX_NESTING}
    return (
        MarkdownIt("commonmark", options)
        .enable(["strikethrough", "linkify"])
        .disable(["heading", "lheading", "hr", "image"])
    )


def _is_safe_href(value: str) -> bool:
    return _SAFE_HREF.match(value) is not None


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


def _count_safe_links(tokens: list[Token]) -> int:
    count = 0
    for block in tokens:
        for token in block.children or ():
            if token.type == "link_open" and _is_safe_href(str(token.attrGet("href") or "")):
                count += 1
    return count


def render_with_links(source: str) -> tuple[str, int]:
    """Render once and count the links of that same parse (for the max_links rule)."""
    try:
        tokens = _markdown.parse(source)
        html = _cleaner.clean(_markdown.renderer.render(tokens, _markdown.options, {}))
    except RecursionError as error:
        raise RenderError("comment too deeply nested to render") from error
    return html, _count_safe_links(tokens)


def render(source: str) -> str:
    """Markdown source -> sanitized HTML, ready to store as body_html."""
    return render_with_links(source)[0]


def count_links(source: str) -> int:
    """Links a reader will see: Markdown links, <autolinks> and bare URLs with an http(s)/mailto target."""
    try:
        return _count_safe_links(_markdown.parse(source))
    except RecursionError as error:
        raise RenderError("comment too deeply nested to parse") from error


def _is_visible(char: str) -> bool:
    if char.isspace() or char in _INVISIBLE:
        return False
    return unicodedata.category(char) not in ("Cc", "Cf", "Zs", "Zl", "Zp")


def is_blank(html: str) -> bool:
    """True when rendered HTML shows no text (empty paragraphs, &nbsp;, zero-width characters)."""
    text = unescape(_TAG.sub("", html))
    return not any(_is_visible(char) for char in text)
