"""TEMPORARY STUB written by the lead so comments can be tested; the moderation engineer replaces this file."""
from dataclasses import dataclass, field


@dataclass
class Outcome:
    status: str = "approved"
    action: str | None = None
    reasons: list = field(default_factory=list)


def effective_settings() -> dict:
    from flask import current_app
    return {"premoderation": "none", "trusted_after": 3, "max_links": 5, "banned_words": [],
            "suspect_words": [], "flag_threshold": 3,
            "edit_window_minutes": current_app.config["EDIT_WINDOW_MINUTES"]}


def evaluate(author, article, source, link_count, settings) -> Outcome:
    return Outcome()


def reached_flag_threshold(comment, settings) -> bool:
    return False
