"""Blueprints: the only code that touches request and response."""
from werkzeug.routing import BaseConverter, ValidationError

from ..web.validation import MAX_ID


class ArticleKeyConverter(BaseConverter):
    """An article key: 1-200 of A-Z a-z 0-9 . _ : -, starting with a letter or digit."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}"


class IdConverter(BaseConverter):
    """A positive ASCII integer id that fits the id columns (Unicode digits never match)."""

    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()  # no such route: 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def register_blueprints(app) -> None:
    app.url_map.converters["key"] = ArticleKeyConverter
    app.url_map.converters["id"] = IdConverter

    from . import (
        api_articles,
        api_auth,
        api_comments,
        api_moderation,
        dashboard,
        demo_pages,
        health,
        widget,
    )
    for module in (api_auth, api_articles, api_comments, api_moderation, health, widget, demo_pages, dashboard):
        app.register_blueprint(module.bp)
