"""/api/v1 comments: threads, posting, editing, deleting, votes and flags."""
from typing import Annotated, Literal

from flask import Blueprint, current_app, jsonify, request
from pydantic import Field, StringConstraints

from ..discussion import (
    articles,
    editing,
    own_pending,
    posting,
    reactions,
    shared_pages,
    threads,
)
from ..discussion.posting import Limits
from ..extensions import db
from ..models import FlagReason, values
from ..timeutil import isoformat
from ..web.caller import caller_and, reads_with_caller, require_active_user
from ..web.ratelimits import limit, public_read, spend_per_ip
from ..web.security import host_origins
from ..web.validation import Id, Line, Strict, body, query_choice, query_int

bp = Blueprint("api_comments", __name__, url_prefix="/api/v1")

Body = Annotated[str, StringConstraints(max_length=200_000)]


class NewComment(Strict):
    body: Body
    parent_id: Id | None = None
    title: Annotated[Line, StringConstraints(max_length=300)] | None = None
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CommentEdit(Strict):
    body: Body


class VoteRequest(Strict):
    # A strict int: true, 1.0 and "1" are refused, not read as 1.
    value: Annotated[int, Field(strict=True, ge=-1, le=1)]


class FlagRequest(Strict):
    reason: Literal[values(FlagReason)]  # type: ignore[valid-type]
    note: Annotated[Line, StringConstraints(max_length=500)] | None = None


def _limits() -> Limits:
    config = current_app.config
    return Limits(max_length=config["MAX_COMMENT_LENGTH"], max_depth=config["MAX_DEPTH"])


@bp.get("/articles/<key:key>/comments")
@public_read
@reads_with_caller
def thread(key: str):
    viewer, head = caller_and(articles.THREAD_HEAD, {"key": key})
    sort = query_choice("sort", threads.SORTS, "oldest")
    limit = query_int("limit", 20, threads.MAX_LIMIT, minimum=1)
    replies = query_int("replies", 5, threads.MAX_REPLIES)
    after = request.args.get("after")
    article = articles.head_found(head)
    page = shared_pages.serve(
        viewer, (article.id, article.version, sort, limit, replies, after), article.id,
        lambda reader: threads.thread_page(article, reader, sort=sort, limit=limit, replies=replies,
                                           after=after),
        own_pending.thread_window(sort, limit, after), replies)
    return current_app.response_class(page, mimetype="application/json")


@bp.get("/comments/<id:comment_id>")
@public_read
@reads_with_caller
def show(comment_id: int):
    viewer, head = caller_and(threads.ARTICLE_VERSION_OF, {"comment_id": comment_id})
    replies = query_int("replies", 5, threads.MAX_REPLIES)
    article_id, version = threads.version_found(head)
    page = shared_pages.serve(
        viewer, (article_id, version, "comment", comment_id, replies), article_id,
        lambda reader: threads.comment_detail(comment_id, reader, replies=replies), None, replies)
    return current_app.response_class(page, mimetype="application/json")


@bp.get("/comments/<id:comment_id>/replies")
@public_read
@reads_with_caller
def replies(comment_id: int):
    viewer, head = caller_and(threads.ARTICLE_VERSION_OF, {"comment_id": comment_id})
    limit = query_int("limit", 20, threads.MAX_LIMIT, minimum=1)
    replies = query_int("replies", 5, threads.MAX_REPLIES)
    after = request.args.get("after")
    article_id, version = threads.version_found(head)
    page = shared_pages.serve(
        viewer, (article_id, version, "replies", comment_id, limit, replies, after), article_id,
        lambda reader: threads.replies_page(comment_id, reader, limit=limit, replies=replies, after=after),
        own_pending.replies_window(comment_id, limit, after), replies)
    return current_app.response_class(page, mimetype="application/json")


@bp.post("/articles/<key:key>/comments")
@limit("RATELIMIT_POST")
@limit("RATELIMIT_POST_IP", per="ip")
@reads_with_caller
def create(key: str):
    _, row = caller_and(articles.ARTICLE_ROW, {"key": key}, attach=True)
    author = require_active_user()
    data = body(NewComment)
    article = articles.article_found(row) or articles.new_article(
        key, data.title, data.url, current_app.config["AUTO_CREATE_ARTICLES"], host_origins())
    draft = posting.check_post(article, author, data.body, _limits(), parent_id=data.parent_id)
    if article.id is None:  # only an article actually created is counted
        spend_per_ip("RATELIMIT_ARTICLE_CREATE")
    comment = posting.save_post(article, author, draft)
    db.session.commit()
    # The author learns the rules' verdict, "rejected" included.
    return jsonify(comment=threads.comment_json(comment, author, article.key, reveal=True)), 201


@bp.patch("/comments/<id:comment_id>")
@limit("RATELIMIT_POST")
@limit("RATELIMIT_POST_IP", per="ip")
def edit(comment_id: int):
    editor = require_active_user()
    data = body(CommentEdit)
    editing.edit_comment(comment_id, editor, data.body, _limits())
    db.session.commit()
    return jsonify(threads.comment_detail(comment_id, editor, for_author=True))


@bp.delete("/comments/<id:comment_id>")
def delete(comment_id: int):
    actor = require_active_user()
    editing.delete_comment(comment_id, actor)
    db.session.commit()
    return "", 204


@bp.put("/comments/<id:comment_id>/vote")
@limit("RATELIMIT_VOTE")
@limit("RATELIMIT_VOTE_IP", per="ip")
def vote(comment_id: int):
    voter = require_active_user()
    data = body(VoteRequest)
    state = reactions.vote(comment_id, voter, data.value)
    db.session.commit()
    return jsonify(state)


@bp.post("/comments/<id:comment_id>/flags")
@limit("RATELIMIT_FLAG")
@limit("RATELIMIT_FLAG_IP", per="ip")
def flag(comment_id: int):
    reporter = require_active_user()
    data = body(FlagRequest)
    report = reactions.flag(comment_id, reporter, data.reason, data.note)
    db.session.commit()
    return jsonify(flag={"id": report.id, "reason": report.reason, "note": report.note,
                         "created_at": isoformat(report.created_at)}), 201
