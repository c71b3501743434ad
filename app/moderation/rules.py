"""The automatic moderation rules, run on every post and edit by a reader.

The caller (``discussion/posting.py``) answers ``403 banned`` for a banned author and
``403 article_closed`` for a closed article before the rules run. Then
``evaluate`` applies, in this order:

1. Moderators and admins are exempt from everything below: approved.
2. A word of ``banned_words`` -> rejected (nothing else is checked).
3. Pre-moderation: the article's own ``moderation`` wins -- ``pre`` holds
   every comment, ``post`` holds none; ``inherit`` follows the setting:
   ``all`` holds every comment, ``new_users`` those of authors with fewer
   than ``trusted_after`` approved comments or an unverified e-mail address.
4. More than ``max_links`` links -> pending.
5. A word of ``suspect_words`` -> pending.

A held comment carries every reason of steps 3-5 that applies. A rejected
one carries the banned word it used.

Flags (``reached_flag_threshold``) send an approved comment back to pending
once ``flag_threshold`` readers flagged it, counting, with FLAGS_NEED_HISTORY,
only accounts at least FLAG_HISTORY_HOURS old; comments by moderators and
admins are never held by flags. Every flag is stored and shown to moderators.

Word matching (``WordList``) is case-insensitive and on word boundaries.
Text and words are both reduced the same way: NFKD with combining marks and
invisible format characters (zero-width spaces, soft hyphens) dropped, then
case-folded; words are runs of letters and digits (so "class" never matches
"ass", and "spam_bot" is "spam" and "bot"). A word matches a word of the
text with the same letters in the same order where every run of a repeated
letter is at least as long as in the word: "spaaaam" matches "spam", "as"
does not match "ass". Leetspeak (0->o 1->i 3->e 4->a 5->s @->a $->s) is
tried as a second reading of the text, so "$p4m" matches "spam" while
"spam@example.org" still matches through the plain reading. A phrase of
several words matches the same words in a row. Not covered: letters
separated by spaces or dots ("s p a m"), look-alike letters from other
scripts (Cyrillic "а"), other substitutions.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import groupby

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    ArticleModeration,
    Comment,
    Flag,
    Premoderation,
    Status,
    User,
    is_staff_role,
)
from ..timeutil import utcnow

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"})


_TOKEN = re.compile(r"[^\W_]+")


_REPEATS = re.compile(r"([^\W_])\1+")


@dataclass
class Outcome:
    status: str = Status.APPROVED.value
    action: str | None = None  # the audit-log action: None (approved), "hold" or "reject"
    reasons: list[str] = field(default_factory=list)


def fold(text: str) -> str:
    """Case-folded text without accents or invisible format characters."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed
                   if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    return kept.casefold()


def _run_lengths(token: str) -> tuple[int, ...]:
    """(1, 1, 4, 1) for "spaaaam": the length of each run of one letter."""
    return tuple(len(list(run)) for _, run in groupby(token))


def _readings(folded: str) -> tuple[list[str], list[str]]:
    """The words of a folded text, as written and with repeated letters collapsed (same positions)."""
    return _TOKEN.findall(folded), _TOKEN.findall(_REPEATS.sub(r"\1", folded))


class _Index:
    """Words of one reading (plain or leetspeak): collapsed tokens -> [(minimal run lengths, word)]."""

    def __init__(self):
        self.entries: dict[tuple[str, ...], list] = {}
        self.firsts: set[str] = set()
        self.lengths: set[int] = set()

    def add(self, reading: str, word: str) -> None:
        tokens, collapsed = _readings(reading)
        if tokens:
            self.entries.setdefault(tuple(collapsed), []).append(
                ([_run_lengths(t) for t in tokens], word))
            self.firsts.add(collapsed[0])
            self.lengths.add(len(tokens))

    def scan(self, folded: str) -> str | None:
        if not self.entries:
            return None
        tokens, collapsed = _readings(folded)
        for start, first in enumerate(collapsed):
            if first not in self.firsts:
                continue  # one set lookup per word of the text in the common case
            for length in self.lengths:
                key = tuple(collapsed[start:start + length])
                for minimal, word in self.entries.get(key, ()) if len(key) == length else ():
                    written = tokens[start:start + length]
                    if all(have >= need for token, runs in zip(written, minimal)
                           for have, need in zip(_run_lengths(token), runs)):
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
    """``words`` for a word list: one entry per word whatever its case or accents; ValueError for a
    word with no letter or digit (it could never match)."""
    unique = {}
    for word in words:
        folded = fold(word)
        if not _TOKEN.search(folded):
            raise ValueError(f'"{word}" has no letter or digit to match')
        unique.setdefault(folded, word)
    return list(unique.values())


def approved_count(author: User) -> int:
    return db.session.scalar(
        select(func.count(Comment.id)).where(Comment.author_id == author.id,
                                             Comment.status == Status.APPROVED)
    ) or 0


def _premoderation_reason(author: User, article, settings: dict) -> str | None:
    if article.moderation == ArticleModeration.PRE:
        return "this article is pre-moderated"
    if article.moderation == ArticleModeration.POST:
        return None
    mode = settings["premoderation"]
    if mode == Premoderation.ALL:
        return "every comment is pre-moderated"
    if mode == Premoderation.NEW_USERS and settings["trusted_after"] > 0:
        if not author.email_verified:  # counts as new however many comments were approved
            return "new user: unverified e-mail address"
        approved = approved_count(author)
        if approved < settings["trusted_after"]:
            return (f"new user: {approved} approved comment(s), "
                    f"{settings['trusted_after']} needed to skip pre-moderation")
    return None


def evaluate(author: User, article, source: str, link_count: int, settings: dict) -> Outcome:
    """What the rules decide for a comment by ``author`` on ``article`` (see the module's order)."""
    if author.is_moderator:
        return Outcome()
    banned = find_word(settings["banned_words"], source)
    if banned is not None:
        return Outcome(Status.REJECTED.value, "reject", [f'banned word "{banned}"'])
    reasons = []
    premoderation = _premoderation_reason(author, article, settings)
    if premoderation:
        reasons.append(premoderation)
    if link_count > settings["max_links"]:
        reasons.append(f"{link_count} links (at most {settings['max_links']} allowed)")
    suspect = find_word(settings["suspect_words"], source)
    if suspect is not None:
        reasons.append(f'suspect word "{suspect}"')
    if reasons:
        return Outcome(Status.PENDING.value, "hold", reasons)
    return Outcome()


def open_flaggers(comment_id: int, with_history: bool = False) -> int:
    """Distinct users with an unresolved flag on the comment (only those with history, when asked)."""
    query = (select(func.count(func.distinct(Flag.user_id)))
             .where(Flag.comment_id == comment_id, Flag.resolved_at.is_(None)))
    if with_history:
        query = query.join(User, User.id == Flag.user_id).where(User.created_at <= history_cutoff())
    return db.session.scalar(query) or 0


def history_cutoff() -> datetime:
    """Accounts created before this have history: their flags count toward the flag threshold."""
    return utcnow() - timedelta(hours=current_app.config["FLAG_HISTORY_HOURS"])


def counted_flaggers(comment_id: int) -> int:
    """The flaggers that count toward ``flag_threshold``: with FLAGS_NEED_HISTORY, accounts old
    enough that nobody can register a handful on the spot to take a comment down."""
    return open_flaggers(comment_id, with_history=current_app.config["FLAGS_NEED_HISTORY"])


def is_by_staff(comment: Comment) -> bool:
    if comment.author_id is None:
        return False
    role = db.session.scalar(select(User.role).where(User.id == comment.author_id))
    return role is not None and is_staff_role(role)


def reached_flag_threshold(comment: Comment, settings: dict) -> bool:
    """Whether flags send ``comment`` back to pending: never a moderator's or an admin's (their
    notices would be anyone's to hide), else once enough counted flaggers reported it."""
    if is_by_staff(comment):
        return False
    return counted_flaggers(comment.id) >= settings["flag_threshold"]


