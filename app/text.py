"""Cleaning what people type: control and invisible characters out, line breaks normalised."""
import re
import unicodedata

# Control characters (category Cc: U+0000-U+001F and U+007F-U+009F) but newline and tab.
_DROPPED_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# Characters that make a one-line name look like something else.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")


_LINE_BREAKS = re.compile("[\u0085\u2028\u2029]")


def clean_multiline(text: str) -> str:
    """NFC text with CRLF folded, control characters other than newline and tab removed.

    NUL is refused rather than removed: it never belongs in a comment.
    """
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _DROPPED_CONTROLS.sub("", text)
    return unicodedata.normalize("NFC", text)


def clean_line(text: str) -> str:
    """One-line text (names, titles): NFC, trimmed; line breaks, controls and invisible characters refused."""
    text = unicodedata.normalize("NFC", text).strip()
    if any(unicodedata.category(ch) == "Cc" for ch in text) or _LINE_BREAKS.search(text):
        raise ValueError("must be a single line without control characters")
    if _INVISIBLE.search(text):
        raise ValueError("must not contain invisible or direction-changing characters")
    return text


