"""Blueprints: the only code that touches request and response."""
from werkzeug.routing import BaseConverter, ValidationError

from ..discussion.articles import KEY_PATTERN
from ..web.validation import ID_PATTERN, MAX_ID


class ArticleKeyConverter(BaseConverter):
    regex = KEY_PATTERN


class IdConverter(BaseConverter):
    """A positive ASCII integer id that fits the id columns."""

    regex = ID_PATTERN

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
        account_pages,
        api_articles,
        api_auth,
        api_comments,
        api_moderation,
        api_notifications,
        api_spam,
        api_webhooks,
        dashboard,
        demo_pages,
        feeds,
        health,
        notification_pages,
        widget,
    )
    for module in (api_auth, api_articles, api_comments, api_moderation, api_spam, api_notifications,
                   api_webhooks, health, widget, demo_pages, dashboard, account_pages, notification_pages, feeds):
        app.register_blueprint(module.bp)
