"""The reader's language on the request side; the tables themselves are ``app.translations``."""
from flask import request

from ..translations import LANGUAGES, plural, table, template_helpers, translate

__all__ = ["LANGUAGES", "pick_language", "plural", "table", "template_helpers", "translate"]


def pick_language(explicit: str | None = None) -> str:
    """``explicit`` when supported, else the browser's preference, else English."""
    if explicit:
        short = explicit.lower()[:2]
        if short in LANGUAGES:
            return short
    return request.accept_languages.best_match(LANGUAGES) or "en"
