"""markdown-it's tokens as the tokens html5lib's tree walker gives for their rendering.

bleach sanitizes a stream of html5lib tokens: normally those of the tree html5lib parses from an HTML
string. For a comment, that string is markdown-it's rendering of its tokens, so the same stream can be
built from the tokens directly, without writing the HTML and parsing it again (60% of bleach's time).
``html5lib_tokens`` mirrors markdown-it's renderer (``RendererHTML.renderToken`` and its rules for
text, breaks and code) tag for tag and newline for newline, gathers text into the text nodes the
tree would hold and splits them with html5lib's own walker. Text and attribute values stay text: the
serializer escapes them, so no markup can come from a reader's words. Whatever it does not mirror
raises ``Unmirrored``, and sanitize.py renders and parses that comment as before.
``tests/test_sanitize_mirror.py`` checks that both ways give the same bytes.
"""
from html import unescape

from bleach.html5lib_shim import getTreeWalker
from markdown_it.token import Token

_XHTML = "http://www.w3.org/1999/xhtml"  # the namespace html5lib gives every element
# markdown-it's four escapes and the private-use characters that stand for them while bleach works
# (sanitize.py; html5lib would decode character references one by one).
ESCAPE_PLACEHOLDERS = {"&amp;": "\U0010fff0", "&lt;": "\U0010fff1", "&gt;": "\U0010fff2", "&quot;": "\U0010fff3"}
# What markdown-it's renderer escapes (escapeHtml), straight to those placeholders.
_TO_PLACEHOLDERS = str.maketrans({unescape(entity): placeholder for entity, placeholder in ESCAPE_PLACEHOLDERS.items()})
# Token types rendered by markdown-it's default renderToken (an open or close tag, nothing else).
_TAG_TOKENS = frozenset({
    "paragraph_open", "paragraph_close", "blockquote_open", "blockquote_close",
    "bullet_list_open", "bullet_list_close", "ordered_list_open", "ordered_list_close",
    "list_item_open", "list_item_close", "em_open", "em_close", "strong_open", "strong_close",
    "s_open", "s_close", "link_open", "link_close",
})
# html5lib's own split of a text node into Characters and its leading and trailing SpaceCharacters.
_walker_text = getTreeWalker("etree")(None).text


class Unmirrored(Exception):
    """A token this module does not mirror: the comment is rendered to HTML and parsed instead."""


def _as_html5lib_reads(text: str) -> str:
    """``text`` as html5lib reads it in markdown-it's escaped rendering (CR and CRLF are newlines in
    its input stream: an entity such as ``&#13;`` gives markdown-it a CR), escapes as placeholders."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_TO_PLACEHOLDERS)


def html5lib_tokens(tokens: list[Token]) -> list[dict]:
    """What html5lib's walker yields for the tree of ``renderer.render(tokens)``; Unmirrored when a
    token is not one this module mirrors."""
    return _Mirror().mirror(tokens)


class _Mirror:
    """The tokens html5lib's walker yields for the tree it parses from ``_markdown.renderer.render(tokens)``:
    markdown-it's renderer, tag for tag and newline for newline, with its text gathered into the text
    nodes the tree would hold. markdown-it's output is well-formed, so html5lib's tree is its tags as
    written, except a link inside a link (html5lib closes the outer one): that one is unmirrored."""

    def __init__(self) -> None:
        self.out: list[dict] = []
        self.text: list[str] = []  # the text node being gathered
        self.links = 0  # links open

    def mirror(self, tokens: list[Token]) -> list[dict]:
        for index, token in enumerate(tokens):
            kind = token.type
            if kind == "inline":
                self.inline(token.children or [])
            elif kind in _TAG_TOKENS:
                self.tag(tokens, index)
            elif kind == "code_block" or (kind == "fence" and not token.info):  # a fence's language: unmirrored
                self.start("pre", token.attrItems() if kind == "code_block" else ())
                self.code(() if kind == "code_block" else token.attrItems(), token.content)
                self.end("pre")
                self.text.append("\n")
            else:
                raise Unmirrored(kind)
        self.flush()
        return self.out

    def inline(self, children: list[Token]) -> None:
        for index, child in enumerate(children):
            kind = child.type
            if kind == "text":
                self.text.append(child.content)
            elif kind == "softbreak":
                self.text.append("\n")
            elif kind == "hardbreak":
                self.flush()
                self.out.append({"type": "EmptyTag", "name": "br", "namespace": _XHTML, "data": {}})
                self.text.append("\n")
            elif kind == "code_inline":
                self.code(child.attrItems(), child.content)
            elif kind in _TAG_TOKENS:
                self.tag(children, index)
            else:
                raise Unmirrored(kind)

    def tag(self, tokens: list[Token], index: int) -> None:
        """markdown-it's ``renderToken``: the tag and the newlines it writes around it."""
        token = tokens[index]
        if token.hidden:  # a tight list's paragraph
            return
        if token.block and token.nesting != -1 and index and tokens[index - 1].hidden:
            self.text.append("\n")
        if token.meta and "checked" in token.meta:  # a task list's checkbox (no rule here makes one)
            raise Unmirrored(token.type)
        if token.type == "link_open":
            self.links += 1
            if self.links > 1:
                raise Unmirrored("link inside a link")
        elif token.type == "link_close":
            self.links -= 1
        if token.nesting == 1:
            self.start(token.tag, token.attrItems())
        else:
            self.end(token.tag)
        if token.block:
            following = tokens[index + 1] if token.nesting == 1 and index + 1 < len(tokens) else None
            if following is None or not (following.type == "inline" or following.hidden
                                         or (following.nesting == -1 and following.tag == token.tag)):
                self.text.append("\n")

    def code(self, attrs, content: str) -> None:
        self.start("code", attrs)
        self.text.append(content)
        self.end("code")

    def start(self, name: str, attrs) -> None:
        self.flush()
        data = {(None, str(key)): _as_html5lib_reads(str(value)) for key, value in attrs}
        self.out.append({"type": "StartTag", "name": name, "namespace": _XHTML, "data": data})

    def end(self, name: str) -> None:
        self.flush()
        self.out.append({"type": "EndTag", "name": name, "namespace": _XHTML})

    def flush(self) -> None:
        if self.text:
            self.out.extend(_walker_text(_as_html5lib_reads("".join(self.text))))
            self.text = []
