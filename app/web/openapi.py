"""The OpenAPI 3.1 description of /api/v1.

Written as data next to the code it describes; ``tests/test_openapi.py``
checks it against the real URL map both ways, so a route cannot be added or
removed without this document following.
"""
from functools import cache

from ..accounts.tokens import MAX_TOKEN_DAYS
from ..discussion.articles import KEY_PATTERN
from ..discussion.threads import SORTS
from ..models import (
    ArticleModeration,
    ArticleStatus,
    FlagReason,
    Premoderation,
    Role,
    Status,
    values,
)
from ..moderation.decisions import ACTIONS
from ..moderation.queues import QUEUES
from . import openapi_mail, openapi_spam
from .openapi_parts import (
    AFTER,
    COMMENT_ID,
    ID,
    KEY_PARAM,
    LIMIT,
    NULLABLE_TIME,
    REPLIES,
    REQUIRED_STR,
    STR,
    TIME,
    USER_ID,
    obj,
    op,
    path_param,
    ref,
)

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
        }},
    },
    "User": {
        "type": "object", "required": ["id", "username", "display_name", "role", "created_at"],
        "properties": {
            "id": {"type": "integer"}, "username": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"enum": list(values(Role))}, "created_at": TIME,
            "email": {"type": ["string", "null"]},
            "email_verified": {"type": "boolean"},
            "language": {"enum": ["en", "fr"]},
            "banned_until": {"type": ["string", "null"]},
        },
    },
    "ApiToken": {
        "type": "object", "required": ["id", "name", "created_at", "last_used_at", "expires_at"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "created_at": TIME,
                       "last_used_at": NULLABLE_TIME, "expires_at": NULLABLE_TIME},
    },
    "Author": {
        "type": ["object", "null"], "required": ["id", "username", "display_name"],
        "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                       "display_name": {"type": "string"},
                       "staff": {"const": True, "description": "present for moderators and admins only"}},
    },
    "Session": {
        "type": "object", "required": ["user", "csrf_token"],
        "properties": {"user": {"anyOf": [ref("User"), {"type": "null"}]},
                       "csrf_token": {"type": "string"}},
    },
    "Article": {
        "type": "object",
        "required": ["key", "title", "url", "status", "moderation", "comment_count", "created_at"],
        "properties": {
            "key": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"},
            "status": {"enum": list(values(ArticleStatus))},
            "moderation": {"enum": list(values(ArticleModeration))},
            "comment_count": {"type": "integer", "minimum": 0}, "created_at": TIME,
        },
    },
    "Comment": {
        "type": "object",
        "required": ["id", "article", "parent_id", "depth", "author", "body_html", "status",
                     "deleted", "pinned", "created_at", "edited_at", "score", "upvotes",
                     "downvotes", "my_vote", "reply_count", "replies", "more_replies"],
        "properties": {
            "id": {"type": "integer"}, "article": {"type": "string"},
            "parent_id": {"type": ["integer", "null"]}, "depth": {"type": "integer", "minimum": 0},
            "author": ref("Author"), "body_html": {"type": ["string", "null"]},
            "body": {"type": "string"},
            "status": {"enum": list(values(Status))},
            "deleted": {"type": "boolean"}, "pinned": {"type": "boolean"},
            "created_at": TIME, "edited_at": NULLABLE_TIME,
            "score": {"type": "integer"}, "upvotes": {"type": "integer"},
            "downvotes": {"type": "integer"}, "my_vote": {"enum": [-1, 0, 1]},
            "reply_count": {"type": "integer"}, "more_replies": {"type": "integer"},
            "replies": {"type": "array", "items": ref("Comment")},
            **openapi_spam.COMMENT_FIELDS,
        },
    },
    "QueueItem": {
        "allOf": [ref("Comment"), {
            "type": "object",
            "required": ["body", "flags", "flag_count", "author_stats", "reasons"],
            "properties": {
                "flags": {"type": "array", "items": {
                    "type": "object", "required": ["reason", "count"],
                    "properties": {"reason": {"type": "string"}, "count": {"type": "integer"}}}},
                "flag_count": {"type": "integer"},
                "author_stats": {"type": "object", "required": ["approved", "rejected"],
                                 "properties": {"approved": {"type": "integer"},
                                                "rejected": {"type": "integer"}}},
                "reasons": {"type": "array", "items": {"type": "string"}},
                "article_title": {"type": "string"},
                "article_url": {"type": "string"},
                "parent_excerpt": {"type": ["string", "null"]},
                "author_banned_until": {"type": ["string", "null"]},
                "decided_at": TIME,
            },
        }],
    },
    "Flag": {
        "type": "object", "required": ["id", "reason", "note", "created_at"],
        "properties": {"id": {"type": "integer"}, "reason": {"type": "string"},
                       "note": {"type": ["string", "null"]}, "created_at": TIME},
    },
    "VoteState": {
        "type": "object", "required": ["score", "upvotes", "downvotes", "my_vote"],
        "properties": {"score": {"type": "integer"}, "upvotes": {"type": "integer"},
                       "downvotes": {"type": "integer"}, "my_vote": {"enum": [-1, 0, 1]}},
    },
    "Settings": {
        "type": "object",
        "required": ["premoderation", "trusted_after", "max_links", "banned_words",
                     "suspect_words", "flag_threshold", "edit_window_minutes"],
        "properties": {
            "premoderation": {"enum": list(values(Premoderation))},
            "trusted_after": {"type": "integer", "minimum": 0},
            "max_links": {"type": "integer", "minimum": 0},
            "banned_words": {"type": "array", "items": {"type": "string"}},
            "suspect_words": {"type": "array", "items": {"type": "string"}},
            "flag_threshold": {"type": "integer", "minimum": 1},
            "edit_window_minutes": {"type": "integer", "minimum": 0},
        },
    },
    "LogEntry": {
        "type": "object",
        "required": ["id", "at", "actor", "action", "comment_id", "user_id", "from", "to", "reason"],
        "properties": {
            "id": {"type": "integer"}, "at": TIME,
            "actor": {"anyOf": [ref("User"), {"type": "null"}]},
            "action": {"enum": ["approve", "reject", "spam", "hold", "pin", "unpin", "ban", "unban",
                                "delete", "edit"]},
            "comment_id": {"type": ["integer", "null"]}, "user_id": {"type": ["integer", "null"]},
            # The affected user's username when the entry was written (kept after deletion).
            "user_name": {"type": ["string", "null"]},
            "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
            # Admins only: the source an edit by someone other than the author replaced.
            "previous_body": {"type": ["string", "null"]},
        },
    },
}


def _paths() -> dict:
    comments_list = obj({"comments": {"type": "array", "items": ref("Comment")},
                          "next": {"type": ["string", "null"]}}, ["comments", "next"])
    article_fields = {"title": STR, "url": STR, "status": {"enum": list(values(ArticleStatus))},
                      "moderation": {"enum": list(values(ArticleModeration))}}
    return {
        "/auth/me": {"get": op("The caller and a CSRF token", 200, ref("Session"))},
        "/auth/register": {"post": op("Create an account and log in", 201, ref("Session"), obj(
            {"username": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]{3,32}$"},
             "email": {"type": "string", "format": "email", "maxLength": 254},
             "password": {"type": "string", "minLength": 10, "maxLength": 1024},
             "display_name": {"type": "string", "minLength": 1, "maxLength": 64},
             "language": {"enum": ["en", "fr"]}},
            ["username", "email", "password"]))},
        "/auth/login": {"post": op("Log in", 200, ref("Session"), obj(
            {"login": REQUIRED_STR, "password": REQUIRED_STR, "remember": {"type": "boolean"}}, ["login", "password"]))},
        "/auth/logout": {"post": op("Log out", 204)},
        "/auth/logout-everywhere": {"post": op("End every session and API token of the caller", 204)},
        "/auth/sso": {"post": op("Log in with the host site's signed token", 200, ref("Session"),
                                  obj({"token": REQUIRED_STR}, ["token"]))},
        "/auth/tokens": {
            "post": op("Create a bearer token, shown once (a cookie session only)", 201, obj(
                {"id": {"type": "integer"}, "name": STR, "token": STR, "created_at": TIME,
                 "expires_at": NULLABLE_TIME}, ["id", "name", "token", "created_at", "expires_at"]),
                obj({"name": {**REQUIRED_STR, "maxLength": 100},
                      "expires_in_days": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_DAYS}}, ["name"])),
            "get": op("The caller's bearer tokens, newest first", 200, obj(
                {"tokens": {"type": "array", "items": ref("ApiToken")}}, ["tokens"])),
        },
        "/auth/tokens/{token_id}": {"delete": op("Revoke a bearer token", 204,
                                                  params=[path_param("token_id", ID)])},
        "/me/export": {"get": op("Everything the caller wrote", 200, obj(
            {"user": ref("User"), "comments": {"type": "array"}, "votes": {"type": "array"},
             "flags": {"type": "array"}}, ["user", "comments", "votes", "flags"]))},
        "/me": {"delete": op("Delete the caller's account", 204)},
        "/users/{user_id}/role": {"put": op("Change a user's role (admin)", 200, ref("User"), obj(
            {"role": {"enum": list(values(Role))}}, ["role"]), [USER_ID])},
        "/articles": {"get": op("Articles, newest first (moderator)", 200, obj(
            {"articles": {"type": "array", "items": ref("Article")}, "next": {"type": ["string", "null"]}},
            ["articles", "next"]), params=[LIMIT, AFTER])},
        "/articles/{key}": {
            "get": op("An article", 200, ref("Article"), params=[KEY_PARAM]),
            "put": _created_or_updated(op("Create or replace an article (admin)", 200, ref("Article"),
                                          obj(article_fields, ["title", "url"]), [KEY_PARAM])),
            "patch": op("Change an article (moderator)", 200, ref("Article"), obj(article_fields),
                         [KEY_PARAM]),
        },
        "/counts": {"get": op("Approved comments per article key", 200, obj(
            {"counts": {"type": "object", "additionalProperties": {"type": "integer"}}}, ["counts"]),
            params=[{"name": "keys", "in": "query", "schema": STR}])},
        "/articles/{key}/comments": {
            "get": op("A page of top-level comments with replies nested", 200, obj(
                {"article": STR, "total": {"type": "integer"},
                 "comments": {"type": "array", "items": ref("Comment")},
                 "next": {"type": ["string", "null"]}}, ["article", "total", "comments", "next"]),
                params=[KEY_PARAM, {"name": "sort", "in": "query",
                                     "schema": {"enum": list(SORTS)}},
                        LIMIT, REPLIES, AFTER]),
            "post": op("Post a comment or a reply", 201, obj({"comment": ref("Comment")}, ["comment"]),
                        obj({"body": STR, "parent_id": ID, "title": STR, "url": STR}, ["body"]),
                        [KEY_PARAM]),
        },
        "/comments/{comment_id}": {
            "get": op("One comment", 200, ref("Comment"), params=[COMMENT_ID, REPLIES]),
            "patch": op("Edit a comment", 200, ref("Comment"), obj({"body": STR}, ["body"]),
                         [COMMENT_ID]),
            "delete": op("Delete a comment", 204, params=[COMMENT_ID]),
        },
        "/comments/{comment_id}/replies": {"get": op(
            "Direct replies, oldest first", 200, comments_list,
            params=[COMMENT_ID, LIMIT, REPLIES, AFTER])},
        "/comments/{comment_id}/vote": {"put": op(
            "Vote", 200, ref("VoteState"), obj({"value": {"enum": [-1, 0, 1]}}, ["value"]),
            [COMMENT_ID])},
        "/comments/{comment_id}/flags": {"post": op(
            "Flag a comment", 201, obj({"flag": ref("Flag")}, ["flag"]),
            obj({"reason": {"enum": list(values(FlagReason))}, "note": STR}, ["reason"]),
            [COMMENT_ID])},
        "/preview": {"post": op(
            "Render a comment body without saving it (the widget's preview)", 200,
            obj({"body_html": STR, "length": {"type": "integer"}}, ["body_html", "length"]),
            obj({"body": STR}, ["body"]))},
        "/moderation/queue": {"get": op("A moderation queue", 200, obj(
            {"comments": {"type": "array", "items": ref("QueueItem")},
             "counts": obj({"pending": {"type": "integer"}, "flagged": {"type": "integer"},
                             "spam": {"type": "integer"}}, ["pending", "flagged", "spam"]),
             "next": {"type": ["string", "null"]}}, ["comments", "counts", "next"]),
            params=[{"name": "queue", "in": "query",
                     "schema": {"enum": list(QUEUES)}},
                    {"name": "article", "in": "query",
                     "schema": {"type": "string", "pattern": f"^({KEY_PATTERN})?$"}},
                    LIMIT, AFTER])},
        "/moderation/comments/{comment_id}": {"post": op(
            "Decide on a comment", 200, ref("Comment"),
            obj({"action": {"enum": list(ACTIONS)}, "reason": STR},
                 ["action"]), [COMMENT_ID])},
        "/moderation/bulk": {"post": op("Decide on many comments at once", 200, obj(
            {"updated": {"type": "integer"}}, ["updated"]), obj(
            {"ids": {"type": "array", "items": ID},
             "action": {"enum": list(ACTIONS)}, "reason": STR},
            ["ids", "action"]))},
        "/moderation/log": {"get": op("The audit log, newest first", 200, obj(
            {"entries": {"type": "array", "items": ref("LogEntry")}, "next": {"type": ["string", "null"]}},
            ["entries", "next"]), params=[{"name": n, "in": "query", "schema": ID}
                                          for n in ("comment", "user", "actor")] + [LIMIT, AFTER])},
        "/moderation/users/{user_id}/ban": {
            "post": op("Ban a user", 200, obj({"user": ref("User")}, ["user"]), obj(
                {"days": {"type": "integer", "minimum": 1}, "reason": STR, "purge": {"type": "boolean"}},
                ["reason"]),
                [USER_ID]),
            "delete": op("Lift a ban", 204, params=[USER_ID]),
        },
        "/moderation/settings": {
            "get": op("Moderation settings", 200, ref("Settings")),
            "put": op("Change moderation settings (admin)", 200, ref("Settings"),
                       {"type": "object", "properties": SCHEMAS["Settings"]["properties"]}),
        },
    }


def _created_or_updated(operation: dict) -> dict:
    """An operation answering 201 when it created the thing and 200 when it changed it, same body."""
    operation["responses"]["201"] = {**operation["responses"]["200"], "description": "Created"}
    return operation


def _merged(*groups: dict) -> dict:
    """The paths of every group, the operations of a path that several list put together."""
    merged: dict = {}
    for group in groups:
        for path, operations in group.items():
            merged[path] = merged.get(path, {}) | operations
    return merged


@cache
def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Causerie", "version": "1.0.0",
                 "description": "Threaded comments, moderation and an embeddable discussion."},
        "servers": [{"url": "/api/v1"}],
        "paths": _merged(_paths(), openapi_mail.paths(), openapi_spam.paths()),
        "components": {
            "schemas": SCHEMAS | openapi_mail.SCHEMAS | openapi_spam.SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "causerie_session"},
            },
        },
    }
