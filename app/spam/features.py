"""What the spam model sees in a comment: hashed words, word pairs, character n-grams and a few facts.

The text is read as a person would: HTML entities unescaped, invisible characters dropped, NFKC
(fullwidth and styled letters become plain ones), casefolded, letters repeated more than three
times cut to three. Links are taken out of the words and become facts (a link, how many, each
domain and its registrable part); numbers become their length ("0000" for a year).

Hashing with MurmurHash3 (``mmh3``, 32-bit, read unsigned, one seed per kind of feature) keeps the
feature space at a fixed 2 x 2^16 whatever the site's vocabulary, and gives the same indices in
every process and on every machine; Python's ``hash()`` changes per process and must never be used
here. Any change that moves a feature index or value must raise FEATURE_VERSION, so that models
trained on the old features are retrained instead of misread.

Only the first MAX_CHARS characters are read: scoring time stays bounded whatever is posted.
"""
import html
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain

import mmh3
import numpy as np

FEATURE_VERSION = 2
MAX_CHARS = 1000
# Each block of the text (words and pairs; character n-grams) is scaled to length n ** (0.5 - BLOCK_POWER)
# for n distinct terms: each term is worth 1 / n ** BLOCK_POWER. 0.5 (unit length) would make a spam
# phrase weigh less the more words surround it; 0 (each term 1) would let a long comment's many weak
# words outvote everything. In between, evidence grows with length, sublinearly.
BLOCK_POWER = 0.25

# Words, word pairs and the facts below share the first space; character n-grams have the second.
WORD_SPACE = 1 << 16
CHAR_SPACE = 1 << 16
N_FEATURES = WORD_SPACE + CHAR_SPACE
_MASK = (1 << 16) - 1
# One MurmurHash3 seed per kind of feature, so that a word, a pair and a fact never share a key.
_WORD_SEED, _PAIR_SEED, _FACT_SEED, _CHAR_SEED = 0, 1, 2, 3


@dataclass(frozen=True)
class Context:
    """What the server knows about a comment besides its text."""
    link_domains: tuple[str, ...] = ()
    author_approved: int = 0
    first_comment: bool = False


@dataclass(frozen=True, eq=False)
class Features:
    """One comment as a sparse vector, and which readable term set which indices (for explanations).

    ``indices`` are sorted and unique (int32), ``values`` their float32 values. Each of ``terms``
    is (label, indices): a word claims its own index and its character n-grams, a word pair or a fact
    its own index.
    """
    indices: np.ndarray
    values: np.ndarray
    terms: tuple[tuple[str, tuple[int, ...]], ...]

    @cached_property
    def claimed(self) -> np.ndarray:
        """Every index each term claims, the terms in order, one after the other (for ``Model.explain``;
        built when first asked, as only a held comment's reason needs it)."""
        return np.fromiter(chain.from_iterable(indices for _, indices in self.terms), dtype=np.int32)


# Zero-width and direction characters, soft hyphens, variation selectors, the BOM: invisible, so
# they only ever serve to split a word in two.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
                        "\ufe00-\ufe0f\ufeff]")
_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_REPEATS = re.compile(r"(.)\1\1\1+")  # as (.)\1{3,}, twice as fast
# Links: with a scheme or www., or a bare host under a common top-level domain ("murdev.com").
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|net|org|info|biz|io|co|me|ly|tv|gl|be|us|uk|de|fr|ru|br|in|xyz|online|site|club|top)"
    r"\b(?:/[^\s<>\"'()\[\]{}]*)?")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[\u2190-\u2bff\U0001F000-\U0001FAFF]")
_DIGIT = re.compile(r"\d")
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu"}
_ASCII = re.compile("[\x00-\x7f]+")
# The bytes to delete to keep only the ASCII capitals, or only the small letters: in ASCII text, what
# str.isupper and str.islower count.
_NOT_UPPER = bytes(b for b in range(256) if not 65 <= b <= 90)
_NOT_LOWER = bytes(b for b in range(256) if not 97 <= b <= 122)


def extract(text: str, context: Context) -> Features:
    """The features of one comment (only its first MAX_CHARS characters) in its context."""
    raw = unicodedata.normalize("NFKC", _INVISIBLE.sub("", html.unescape(text[:MAX_CHARS])))
    raw = _BREAK_TAG.sub(" ", raw)
    text = _REPEATS.sub(r"\1\1\1", raw.casefold().replace("\u2019", "'"))

    # Each word (as _word_features gives it) and each pair once, in order of appearance.
    words: dict[str, tuple[str, tuple[int, ...], bytes]] = {}
    pairs: dict[str, None] = {}
    links: list[str] = []
    start = 0
    for link in _URL.finditer(text):
        links.append(link.group())
        _read_words(text[start:link.start()], words, pairs)
        start = link.end()
    _read_words(text[start:], words, pairs)

    terms = [(word, claimed) for word, claimed, _ in words.values()]
    # The character n-grams of every word, once each (they are at WORD_SPACE and above): one join of
    # bytes. Concatenating an array a word made the filter's cost to a post 15-20% higher
    # (docs/performance.md).
    chars = _unique(np.frombuffer(b"".join([grams for _, _, grams in words.values()]), dtype=np.int32))
    others = [mmh3.hash(pair, _PAIR_SEED, signed=False) & _MASK for pair in pairs]
    terms += [(pair, (index,)) for pair, index in zip(pairs, others)]
    # Words, pairs and n-grams count once each, each term of a block worth 1 / n ** BLOCK_POWER (see
    # there); the facts count 1. Indices that collide add up.
    distinct = {claimed[0] for _, claimed in terms}
    values = dict.fromkeys(distinct, _term_value(len(distinct)))
    for label, key in _facts(raw, links, context):
        index = mmh3.hash(key, _FACT_SEED, signed=False) & _MASK
        values[index] = values.get(index, 0.0) + 1.0
        if label:
            terms.append((label, (index,)))
    first = sorted(values)
    return Features(
        indices=np.concatenate([np.array(first, dtype=np.int32), chars]),
        values=np.concatenate([np.array([values[i] for i in first], dtype=np.float32),
                               np.full(len(chars), _term_value(len(chars)), dtype=np.float32)]),
        terms=tuple(terms))


def _unique(indices: np.ndarray) -> np.ndarray:
    """The distinct indices, sorted (np.unique, without its hash table: slower on a thousand)."""
    indices = np.sort(indices)
    distinct = np.empty(len(indices), dtype=bool)
    distinct[:1] = True
    np.not_equal(indices[1:], indices[:-1], out=distinct[1:])
    return indices[distinct]


def _term_value(count: int) -> float:
    """What each of ``count`` distinct terms of a block is worth."""
    return 1.0 / count ** BLOCK_POWER if count else 0.0


def _read_words(segment: str, words: dict, pairs: dict) -> None:
    """The words and word pairs of a stretch of text between links (a pair never spans a link)."""
    found = list(map(_word_features, _TOKEN.findall(segment)))
    for word in found:
        words.setdefault(word[0], word)
    names = [word for word, _, _ in found]
    pairs.update(dict.fromkeys(map(" ".join, zip(names, names[1:]))))


def _shape(token: str) -> str:
    """Numbers by their length only (a year, a phone number); digits inside words as 0."""
    if token.isdigit():
        return "0" * min(len(token), 5)
    return _DIGIT.sub("0", token) if _DIGIT.search(token) else token


# About 1 KB a word (its index tuple and bytes): 16,384 words, up to ~17 MB per process, cover nearly
# every word of a site's comments; a word out of the cache costs ~10 us to hash again.
@lru_cache(maxsize=16384)
def _word_features(token: str) -> tuple[str, tuple[int, ...], bytes]:
    """A token as a word; the indices it claims (its own, then its character 2-4-grams', of the word
    padded with < and >), and its n-grams again as int32 bytes (joined in one call for a whole
    comment). Cached: most words come back again and again."""
    word = _shape(token)
    own = mmh3.hash(word, _WORD_SEED, signed=False) & _MASK
    if word.isdigit() or not word[0].isalnum():
        claimed: tuple[int, ...] = (own,)
    else:
        padded = "<" + word[:40] + ">"
        claimed = (own,) + tuple(sorted({
            WORD_SPACE + (mmh3.hash(padded[i:i + n], _CHAR_SEED, signed=False) & _MASK)
            for n in (2, 3, 4) for i in range(len(padded) - n + 1)}))
    return word, claimed, np.array(claimed[1:], dtype=np.int32).tobytes()


def _facts(raw: str, links: list[str], context: Context) -> list[tuple[str | None, str]]:
    """The extras as (label, hashed key): links, their domains, the author, shouting.

    A fact that is true of most ordinary comments (no link, a new author, lower case) has no label:
    it is never given as a reason. No length: long comments are mostly spam on YouTube, but a long
    comment elsewhere is not.
    """
    domains = {_host(link) for link in links} | {_host(d) for d in context.link_domains}
    domains.discard("")
    count = max(len(links), len(domains))
    if not count:
        facts: list[tuple[str | None, str]] = [(None, "x nolink")]
    else:
        facts = [("a link", "x link"),
                 ("1 link" if count == 1 else f"{min(count, 3)}{'+' if count >= 3 else ''} links",
                  f"x links {min(count, 3)}")]
    for host in sorted(domains):
        facts.append((f"link to {host}", "x domain " + host))
        site = _site(host)
        if site != host:
            facts.append((f"link to {site}", "x domain " + site))
    approved = context.author_approved
    bucket = "0" if approved <= 0 else "1" if approved == 1 else "2-4" if approved < 5 else (
        "5-19" if approved < 20 else "20+")
    facts.append((None, "x approved " + bucket))
    facts.append((None, "x first" if context.first_comment else "x notfirst"))
    facts.append(_shouting(raw))
    return facts


def _shouting(raw: str) -> tuple[str | None, str]:
    # ASCII letters counted by deleting the other bytes (in C), the rest one by one.
    ascii_part = raw.encode("ascii", "ignore")
    rest = _ASCII.sub("", raw) if len(ascii_part) < len(raw) else ""
    upper = len(ascii_part.translate(None, _NOT_UPPER)) + sum(map(str.isupper, rest))
    cased = upper + len(ascii_part.translate(None, _NOT_LOWER)) + sum(map(str.islower, rest))
    if cased < 8:
        return None, "x caps few"
    share = upper / cased
    if share >= 0.6:
        return "shouting", "x caps shout"
    return None, "x caps some" if share >= 0.2 else "x caps low"


def _host(link: str) -> str:
    """The host of a link or domain, lower case, without www. or a port."""
    host = link.casefold().strip()
    host = host.split("://", 1)[1] if "://" in host else host
    host = re.split(r"[/?#:]", host, maxsplit=1)[0].rstrip(".,;!")
    return host[4:] if host.startswith("www.") else host


def _site(host: str) -> str:
    """The registrable part of a host, roughly: example.com, example.co.uk."""
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])
