"""/api/v1/articles and /api/v1/counts."""
from typing import Annotated, Literal

from flask import Blueprint, jsonify, request
from pydantic import StringConstraints

from .. import pagination
from ..discussion import articles
from ..discussion.serialize import article_json
from ..errors import validation_error
from ..extensions import db
from ..web import validation
from ..web.caller import require_admin, require_moderator
from ..web.ratelimits import public_read
from ..web.validation import Line, Strict, body, query_int

bp = Blueprint("api_articles", __name__, url_prefix="/api/v1")

Url = Annotated[str, StringConstraints(max_length=2000)]


class ArticleFields(Strict):
    title: Annotated[Line, StringConstraints(max_length=300)] | None = None
    url: Url | None = None
    status: Literal["open", "closed"] | None = None
    moderation: Literal["inherit", "post", "pre"] | None = None


class ArticleCreation(ArticleFields):
    title: Annotated[Line, StringConstraints(max_length=300)]
    url: Url


def _checked(fields: ArticleFields) -> dict:
    values = fields.model_dump(exclude_none=True)
    if "url" in values and (reason := articles.check_url(values["url"])):
        raise validation_error({"url": reason})
    return values


@bp.get("/articles/<key:key>")
@public_read
def show(key: str):
    return jsonify(article_json(articles.get_article_or_404(key)))


@bp.put("/articles/<key:key>")
def put(key: str):
    require_admin()
    values = _checked(body(ArticleCreation))
    article, created = articles.save_article(key, values)
    db.session.commit()
    return jsonify(article_json(article)), 201 if created else 200


@bp.patch("/articles/<key:key>")
def patch(key: str):
    require_moderator()
    values = _checked(body(ArticleFields))
    article = articles.update_article(articles.get_article_or_404(key), values)
    db.session.commit()
    return jsonify(article_json(article))


@bp.get("/articles")
def index():
    require_moderator()
    limit = query_int("limit", 20, 100, minimum=1)
    after = validation.after_param("articles")
    if after is not None:
        after = (pagination.to_datetime(after[0]), after[1])
    rows = articles.list_articles(limit, after)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = pagination.encode("articles", rows[-1].created_at, rows[-1].id) if more else None
    return jsonify(articles=[article_json(a) for a in rows], next=next_cursor)


@bp.get("/counts")
@public_read
def counts():
    raw = request.args.get("keys", "")
    keys = list(dict.fromkeys(k for k in raw.split(",") if k))
    if len(keys) > articles.MAX_COUNT_KEYS:
        raise validation_error({"keys": f"at most {articles.MAX_COUNT_KEYS} keys"})
    bad = [k for k in keys if not articles.KEY_RE.fullmatch(k)]
    valid = [k for k in keys if k not in bad]
    result = articles.comment_counts(valid) if valid else {}
    result.update({k: 0 for k in bad})
    response = jsonify(counts={k: result[k] for k in keys})
    # Public, cookie-free data: any host page may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=15"
    return response
