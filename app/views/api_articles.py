"""/api/v1/articles and /api/v1/counts."""
from typing import Annotated, Literal

from flask import Blueprint, jsonify, request
from pydantic import StringConstraints

from ..discussion import articles
from ..discussion.serialize import article_json
from ..extensions import db
from ..models import ArticleModeration, ArticleStatus, values
from ..web.caller import require_admin, require_moderator
from ..web.ratelimits import public_read
from ..web.validation import Line, Strict, body, query_int

bp = Blueprint("api_articles", __name__, url_prefix="/api/v1")

Url = Annotated[str, StringConstraints(max_length=2000)]


class ArticleFields(Strict):
    title: Annotated[Line, StringConstraints(max_length=300)] | None = None
    url: Url | None = None
    status: Literal[values(ArticleStatus)] | None = None  # type: ignore[valid-type]
    moderation: Literal[values(ArticleModeration)] | None = None  # type: ignore[valid-type]


class ArticleCreation(ArticleFields):
    title: Annotated[Line, StringConstraints(max_length=300)]
    url: Url


@bp.get("/articles/<key:key>")
@public_read
def show(key: str):
    return jsonify(article_json(articles.get_article_or_404(key)))


@bp.put("/articles/<key:key>")
def put(key: str):
    require_admin()
    article, created = articles.save_article(key, body(ArticleCreation).model_dump(exclude_none=True))
    db.session.commit()
    return jsonify(article_json(article)), 201 if created else 200


@bp.patch("/articles/<key:key>")
def patch(key: str):
    require_moderator()
    article = articles.change_article(key, body(ArticleFields).model_dump(exclude_none=True))
    db.session.commit()
    return jsonify(article_json(article))


@bp.get("/articles")
def index():
    require_moderator()
    limit = query_int("limit", 20, 100, minimum=1)
    page, next_cursor = articles.articles_page(limit, request.args.get("after"))
    return jsonify(articles=[article_json(a) for a in page], next=next_cursor)


@bp.get("/counts")
@public_read
def counts():
    response = jsonify(counts=articles.counts_for(request.args.get("keys", "")))
    # Public, cookie-free data: any host page may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=15"
    return response
