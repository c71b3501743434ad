"""Atom feeds of approved comments: one per article and one of the whole site (``discussion/feeds``).

Public and anonymous: no session is read, the answer is the same for everyone, so it may be kept
by shared caches for a minute and read by any origin. Conditional requests (If-None-Match, which
wins, or If-Modified-Since) are answered ``304``.
"""
from flask import Blueprint, Response, current_app, request
from werkzeug.http import is_resource_modified

from ..discussion import feeds

bp = Blueprint("feeds", __name__)

MAX_AGE = 60


def _links() -> feeds.Links:
    """Links on PUBLIC_URL; on the request's own root only when PUBLIC_URL is unset (a development
    set-up: ids and links then follow whatever Host the reader used)."""
    return feeds.Links(current_app.config.get("PUBLIC_URL") or request.url_root)


def _answer(document: bytes | None, etag: str, last_modified) -> Response:
    response = Response(document or b"", status=200 if document is not None else 304,
                        content_type=feeds.CONTENT_TYPE)
    response.set_etag(etag)
    response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    if document is not None:
        response.make_conditional(request)
    return response


def _not_modified(etag: str, last_modified=None) -> bool:
    return not is_resource_modified(request.environ, etag=etag, last_modified=last_modified)


@bp.get("/feeds/articles/<key:key>.atom")
def article_feed(key: str):
    links = _links()
    head = feeds.article_head(key)
    etag = feeds.article_etag(head, links)
    if request.if_none_match and _not_modified(etag):
        return _answer(None, etag, None)  # one query: the article's version said it all
    document, last_modified = feeds.article_feed(head, links)
    return _answer(document, etag, last_modified)


@bp.get("/feeds/recent.atom")
def recent_feed():
    document, etag, last_modified = feeds.recent_feed(_links())
    return _answer(document, etag, last_modified)
