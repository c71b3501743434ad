"""Loader for the shared hostile-comment corpus (shared/corpus/xss.txt), reused by every test that feeds it.

The file format is defined by its header: split on '\\n' only (payloads hold raw CR, VT, FF, U+2028 ...),
skip '# ' comment lines and empty lines, the two characters \\n and \\r stand for newline and carriage
return, and {{REPEAT:N:TEXT}} means TEXT repeated N times (escapes inside TEXT apply).
The corpus lives beside the repository clone (<repo>/../shared/corpus), or wherever CAUSERIE_CORPUS says
(the corpus directory or the xss.txt file itself).

assert_inert_html() is the corpus oracle for a stored body_html, with its own copy of the allowlist
so that a widened allowlist in app/discussion/sanitize.py fails the tests instead of passing them.
"""

import os
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_COMMENT_LENGTH = 10_000

ALLOWED_TAGS = {"p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}, "ol": {"start"}}
LINK_REL = "nofollow ugc noopener"
# Whitespace, controls and invisible characters, dropped before reading a scheme (stricter than browsers).
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\x9f\s\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\ufeff]")

_REPEAT = re.compile(r"\{\{REPEAT:(\d+):(.*?)\}\}", re.DOTALL)
_TOTAL = re.compile(r"total=(\d+)")


def corpus_path(name: str = "xss.txt") -> Path:
    """Path of a corpus file: CAUSERIE_CORPUS (a directory or the file), else the shared corpus
    beside the clone (<repo>/../shared/corpus, the newest), else the copy kept in tests/corpus."""
    configured = os.environ.get("CAUSERIE_CORPUS")
    if configured:
        path = Path(configured)
        return path if path.is_file() else path / name
    shared = REPO_ROOT.parent / "shared" / "corpus" / name
    return shared if shared.is_file() else Path(__file__).parent / "corpus" / name


def truncate(text: str, max_len: int | None) -> str:
    """At most max_len code points (None: unchanged)."""
    return text if max_len is None else text[:max_len]


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\r", "\r")


def expand(line: str, max_len: int | None = None) -> str:
    """One corpus line -> the payload it stands for, cut to max_len code points when given."""
    parts: list[str] = []
    position = 0
    for match in _REPEAT.finditer(line):
        parts.append(_unescape(line[position : match.start()]))
        count, text = int(match.group(1)), _unescape(match.group(2))
        if max_len is not None and text:
            count = min(count, max_len // len(text) + 1)  # enough for the prefix we keep
        parts.append(text * count)
        position = match.end()
    parts.append(_unescape(line[position:]))
    return truncate("".join(parts), max_len)


def _payload_lines(path: Path) -> list[tuple[int, str]]:
    content = path.read_text(encoding="utf-8")
    return [
        (number, line)
        for number, line in enumerate(content.split("\n"), start=1)
        if line and not line.startswith("# ")
    ]


def load_cases(max_len: int | None = None) -> list[tuple[int, str]]:
    """(line number in xss.txt, payload) for every payload, in file order."""
    return [(number, expand(line, max_len)) for number, line in _payload_lines(corpus_path())]


def load_payloads(max_len: int | None = None) -> list[str]:
    """Every payload of xss.txt, expanded and cut to max_len code points when given."""
    return [payload for _, payload in load_cases(max_len)]


def declared_total() -> int | None:
    """The payload count the header announces ("total=N"), to check the loader against."""
    for line in corpus_path().read_text(encoding="utf-8").split("\n"):
        if line.startswith("# ") and (match := _TOTAL.search(line)):
            return int(match.group(1))
    return None


class _MarkupRecorder(HTMLParser):
    """Every tag with its attributes, comments and declarations included, as the stdlib parser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_comment(self, data):
        self.tags.append(("!--", []))

    def handle_decl(self, decl):
        self.tags.append(("!decl", []))

    def handle_pi(self, data):
        self.tags.append(("?pi", []))

    def unknown_decl(self, data):
        self.tags.append(("!unknown", []))


def assert_inert_html(html: str) -> None:
    """Only allowlisted tags and attributes, no on*/style, only http(s)/mailto hrefs, rel on every link."""
    recorder = _MarkupRecorder()
    recorder.feed(html)
    recorder.close()
    for tag, attrs in recorder.tags:
        assert tag in ALLOWED_TAGS, f"tag {tag!r} in {html[:300]!r}"
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"duplicate attribute on <{tag}>"
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", f"{name!r} on <{tag}>"
            assert name in ALLOWED_ATTRIBUTES.get(tag, ()), f"attribute {name!r} on <{tag}>"
            if name == "href":
                target = _URL_NOISE.sub("", unescape(value or "")).lower()
                assert target.startswith(("http://", "https://", "mailto:")), f"href {value!r}"
            if name == "start":
                assert (value or "").isdigit(), f"start {value!r}"
        if tag == "a":
            values = dict(attrs)
            assert values.get("rel") == LINK_REL, f"rel {values.get('rel')!r}"
            assert "href" in values, "an <a> without href should have been unwrapped"
