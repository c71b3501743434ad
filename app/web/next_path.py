"""Where the log-in and registration pages may send the reader afterwards.

One check, made by the server: the pages render its result and their script follows it as is,
so no browser-side parsing can turn a checked path into another site ("/.//evil" -> "//evil").
"""
import re
from urllib.parse import quote, unquote

MAX_NEXT = 2000
# Whitespace and control characters: browsers drop some of them inside URLs ("/\t/evil" is "//evil").
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\xa0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]")
# Percent-decoding stops here: more layers than this is an attack, not a link.
MAX_DECODINGS = 4
# Written back as they are (RFC 3986 path characters); everything else is percent-encoded.
_PATH_KEEP = "/!$&'()*+,;=:@-._~"
_QUERY_KEEP = _PATH_KEEP + "?#%"


def safe_next(raw: str | None, default: str = "/") -> str:
    """``raw`` as a same-site path to go to, else ``default``.

    The path part is percent-decoded to a fixed point, backslashes become slashes (browsers read
    them so), dot segments are resolved, and the result is encoded again: a browser resolves what
    we return to exactly that path, which starts with one ``/`` followed by neither ``/`` nor
    ``\\``. Absolute URLs, whitespace and control characters (raw or encoded) give ``default``.
    """
    if not raw or len(raw) > MAX_NEXT or _UNSAFE_CHARS.search(raw):
        return default
    cut = min((i for i in (raw.find("?"), raw.find("#")) if i >= 0), default=len(raw))
    path, rest = raw[:cut], raw[cut:]
    decoded = _fully_decoded(path)
    if decoded is None or _UNSAFE_CHARS.search(decoded):
        return default
    path = remove_dot_segments(decoded.replace("\\", "/"))
    if not path.startswith("/") or path.startswith("//"):
        return default
    return quote(path, safe=_PATH_KEEP) + quote(rest, safe=_QUERY_KEEP)


def _fully_decoded(text: str) -> str | None:
    """``text`` percent-decoded until nothing changes; None if it never settles or is not UTF-8."""
    for _ in range(MAX_DECODINGS):
        try:
            decoded = unquote(text, errors="strict")
        except UnicodeDecodeError:
            return None
        if decoded == text:
            return text
        text = decoded
    return None


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: the path with its ``.`` and ``..`` segments resolved, as a browser does."""
    output: list[str] = []
    segments = path.split("/")
    absolute = path.startswith("/")
    if absolute:
        segments = segments[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return ("/" if absolute else "") + "/".join(output)
