"""The OpenAPI 3.1 description of /api/v1.

Written as data next to the code it describes; ``tests/test_openapi.py``
checks it against the real URL map both ways, so a route cannot be added or
removed without this document following.
"""
from functools import cache

from ..accounts.tokens import MAX_TOKEN_DAYS
from ..discussion.articles import KEY_PATTERN
from ..discussion.threads import SORTS
from ..models import ArticleModeration, ArticleStatus, FlagReason, Premoderation, Role, Status, values
from ..moderation.decisions import ACTIONS
from ..moderation.queues import QUEUES
from .validation import MAX_ID


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_KEY = {"type": "string", "pattern": f"^{KEY_PATTERN}$"}
_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}
_AFTER = {"name": "after", "in": "query", "schema": {"type": "string"}}
_REPLIES = {"name": "replies", "in": "query", "schema": {"type": "integer", "minimum": 0}}

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
            "role": {"enum": list(values(Role))}, "created_at": _TIME,
            "email": {"type": ["string", "null"]},
            "banned_until": {"type": ["string", "null"]},
        },
    },
    "ApiToken": {
        "type": "object", "required": ["id", "name", "created_at", "last_used_at", "expires_at"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "created_at": _TIME,
                       "last_used_at": _NULLABLE_TIME, "expires_at": _NULLABLE_TIME},
    },
    "Author": {
        "type": ["object", "null"], "required": ["id", "username", "display_name"],
        "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                       "display_name": {"type": "string"},
                       "staff": {"const": True, "description": "present for moderators and admins only"}},
    },
    "Session": {
        "type": "object", "required": ["user", "csrf_token"],
        "properties": {"user": {"anyOf": [_ref("User"), {"type": "null"}]},
                       "csrf_token": {"type": "string"}},
    },
    "Article": {
        "type": "object",
        "required": ["key", "title", "url", "status", "moderation", "comment_count", "created_at"],
        "properties": {
            "key": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"},
            "status": {"enum": list(values(ArticleStatus))},
            "moderation": {"enum": list(values(ArticleModeration))},
            "comment_count": {"type": "integer", "minimum": 0}, "created_at": _TIME,
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
            "author": _ref("Author"), "body_html": {"type": ["string", "null"]},
            "body": {"type": "string"},
            "status": {"enum": list(values(Status))},
            "deleted": {"type": "boolean"}, "pinned": {"type": "boolean"},
            "created_at": _TIME, "edited_at": _NULLABLE_TIME,
            "score": {"type": "integer"}, "upvotes": {"type": "integer"},
            "downvotes": {"type": "integer"}, "my_vote": {"enum": [-1, 0, 1]},
            "reply_count": {"type": "integer"}, "more_replies": {"type": "integer"},
            "replies": {"type": "array", "items": _ref("Comment")},
        },
    },
    "QueueItem": {
        "allOf": [_ref("Comment"), {
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
                "decided_at": _TIME,
            },
        }],
    },
    "Flag": {
        "type": "object", "required": ["id", "reason", "note", "created_at"],
        "properties": {"id": {"type": "integer"}, "reason": {"type": "string"},
                       "note": {"type": ["string", "null"]}, "created_at": _TIME},
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
            "id": {"type": "integer"}, "at": _TIME,
            "actor": {"anyOf": [_ref("User"), {"type": "null"}]},
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


def _obj(properties: dict, required=()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required)}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: int | None, schema: dict | None = None, body: dict | None = None,
        params: list | None = None) -> dict:
    responses = {"default": {"description": "An error", **_json(_ref("Error"))}}
    if ok == 204:
        responses["204"] = {"description": "No content"}
    elif ok is not None:
        responses[str(ok)] = {"description": "OK", **_json(schema or {"type": "object"})}
    op = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


_KEY_PARAM = _path_param("key", _KEY)
_COMMENT_ID = _path_param("comment_id", _ID)
_USER_ID = _path_param("user_id", _ID)
_STR = {"type": "string"}
_REQUIRED_STR = {"type": "string", "minLength": 1}


def _paths() -> dict:
    comments_list = _obj({"comments": {"type": "array", "items": _ref("Comment")},
                          "next": {"type": ["string", "null"]}}, ["comments", "next"])
    article_fields = {"title": _STR, "url": _STR, "status": {"enum": list(values(ArticleStatus))},
                      "moderation": {"enum": list(values(ArticleModeration))}}
    return {
        "/auth/me": {"get": _op("The caller and a CSRF token", 200, _ref("Session"))},
        "/auth/register": {"post": _op("Create an account and log in", 201, _ref("Session"), _obj(
            {"username": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]{3,32}$"},
             "email": {"type": "string", "format": "email", "maxLength": 254},
             "password": {"type": "string", "minLength": 10, "maxLength": 1024},
             "display_name": {"type": "string", "minLength": 1, "maxLength": 64}},
            ["username", "email", "password"]))},
        "/auth/login": {"post": _op("Log in", 200, _ref("Session"), _obj(
            {"login": _REQUIRED_STR, "password": _REQUIRED_STR, "remember": {"type": "boolean"}}, ["login", "password"]))},
        "/auth/logout": {"post": _op("Log out", 204)},
        "/auth/logout-everywhere": {"post": _op("End every session and API token of the caller", 204)},
        "/auth/sso": {"post": _op("Log in with the host site's signed token", 200, _ref("Session"),
                                  _obj({"token": _REQUIRED_STR}, ["token"]))},
        "/auth/tokens": {
            "post": _op("Create a bearer token, shown once (a cookie session only)", 201, _obj(
                {"id": {"type": "integer"}, "name": _STR, "token": _STR, "created_at": _TIME,
                 "expires_at": _NULLABLE_TIME}, ["id", "name", "token", "created_at", "expires_at"]),
                _obj({"name": {**_REQUIRED_STR, "maxLength": 100},
                      "expires_in_days": {"type": "integer", "minimum": 1, "maximum": MAX_TOKEN_DAYS}}, ["name"])),
            "get": _op("The caller's bearer tokens, newest first", 200, _obj(
                {"tokens": {"type": "array", "items": _ref("ApiToken")}}, ["tokens"])),
        },
        "/auth/tokens/{token_id}": {"delete": _op("Revoke a bearer token", 204,
                                                  params=[_path_param("token_id", _ID)])},
        "/me/export": {"get": _op("Everything the caller wrote", 200, _obj(
            {"user": _ref("User"), "comments": {"type": "array"}, "votes": {"type": "array"},
             "flags": {"type": "array"}}, ["user", "comments", "votes", "flags"]))},
        "/me": {"delete": _op("Delete the caller's account", 204)},
        "/users/{user_id}/role": {"put": _op("Change a user's role (admin)", 200, _ref("User"), _obj(
            {"role": {"enum": list(values(Role))}}, ["role"]), [_USER_ID])},
        "/articles": {"get": _op("Articles, newest first (moderator)", 200, _obj(
            {"articles": {"type": "array", "items": _ref("Article")}, "next": {"type": ["string", "null"]}},
            ["articles", "next"]), params=[_LIMIT, _AFTER])},
        "/articles/{key}": {
            "get": _op("An article", 200, _ref("Article"), params=[_KEY_PARAM]),
            "put": _op("Create or replace an article (admin)", 200, _ref("Article"),
                       _obj(article_fields, ["title", "url"]), [_KEY_PARAM]),
            "patch": _op("Change an article (moderator)", 200, _ref("Article"), _obj(article_fields),
                         [_KEY_PARAM]),
        },
        "/counts": {"get": _op("Approved comments per article key", 200, _obj(
            {"counts": {"type": "object", "additionalProperties": {"type": "integer"}}}, ["counts"]),
            params=[{"name": "keys", "in": "query", "schema": _STR}])},
        "/articles/{key}/comments": {
            "get": _op("A page of top-level comments with replies nested", 200, _obj(
                {"article": _STR, "total": {"type": "integer"},
                 "comments": {"type": "array", "items": _ref("Comment")},
                 "next": {"type": ["string", "null"]}}, ["article", "total", "comments", "next"]),
                params=[_KEY_PARAM, {"name": "sort", "in": "query",
                                     "schema": {"enum": list(SORTS)}},
                        _LIMIT, _REPLIES, _AFTER]),
            "post": _op("Post a comment or a reply", 201, _obj({"comment": _ref("Comment")}, ["comment"]),
                        _obj({"body": _STR, "parent_id": _ID, "title": _STR, "url": _STR}, ["body"]),
                        [_KEY_PARAM]),
        },
        "/comments/{comment_id}": {
            "get": _op("One comment", 200, _ref("Comment"), params=[_COMMENT_ID, _REPLIES]),
            "patch": _op("Edit a comment", 200, _ref("Comment"), _obj({"body": _STR}, ["body"]),
                         [_COMMENT_ID]),
            "delete": _op("Delete a comment", 204, params=[_COMMENT_ID]),
        },
        "/comments/{comment_id}/replies": {"get": _op(
            "Direct replies, oldest first", 200, comments_list,
            params=[_COMMENT_ID, _LIMIT, _REPLIES, _AFTER])},
        "/comments/{comment_id}/vote": {"put": _op(
            "Vote", 200, _ref("VoteState"), _obj({"value": {"enum": [-1, 0, 1]}}, ["value"]),
            [_COMMENT_ID])},
        "/comments/{comment_id}/flags": {"post": _op(
            "Flag a comment", 201, _obj({"flag": _ref("Flag")}, ["flag"]),
            _obj({"reason": {"enum": list(values(FlagReason))}, "note": _STR}, ["reason"]),
            [_COMMENT_ID])},
        "/preview": {"post": _op(
            "Render a comment body without saving it (the widget's preview)", 200,
            _obj({"body_html": _STR, "length": {"type": "integer"}}, ["body_html", "length"]),
            _obj({"body": _STR}, ["body"]))},
        "/moderation/queue": {"get": _op("A moderation queue", 200, _obj(
            {"comments": {"type": "array", "items": _ref("QueueItem")},
             "counts": _obj({"pending": {"type": "integer"}, "flagged": {"type": "integer"},
                             "spam": {"type": "integer"}}, ["pending", "flagged", "spam"]),
             "next": {"type": ["string", "null"]}}, ["comments", "counts", "next"]),
            params=[{"name": "queue", "in": "query",
                     "schema": {"enum": list(QUEUES)}},
                    {"name": "article", "in": "query",
                     "schema": {"type": "string", "pattern": f"^({KEY_PATTERN})?$"}},
                    _LIMIT, _AFTER])},
        "/moderation/comments/{comment_id}": {"post": _op(
            "Decide on a comment", 200, _ref("Comment"),
            _obj({"action": {"enum": list(ACTIONS)}, "reason": _STR},
                 ["action"]), [_COMMENT_ID])},
        "/moderation/bulk": {"post": _op("Decide on many comments at once", 200, _obj(
            {"updated": {"type": "integer"}}, ["updated"]), _obj(
            {"ids": {"type": "array", "items": _ID},
             "action": {"enum": list(ACTIONS)}, "reason": _STR},
            ["ids", "action"]))},
        "/moderation/log": {"get": _op("The audit log, newest first", 200, _obj(
            {"entries": {"type": "array", "items": _ref("LogEntry")}, "next": {"type": ["string", "null"]}},
            ["entries", "next"]), params=[{"name": n, "in": "query", "schema": _ID}
                                          for n in ("comment", "user", "actor")] + [_LIMIT, _AFTER])},
        "/moderation/users/{user_id}/ban": {
            "post": _op("Ban a user", 200, _obj({"user": _ref("User")}, ["user"]), _obj(
                {"days": {"type": "integer", "minimum": 1}, "reason": _STR, "purge": {"type": "boolean"}},
                ["reason"]),
                [_USER_ID]),
            "delete": _op("Lift a ban", 204, params=[_USER_ID]),
        },
        "/moderation/settings": {
            "get": _op("Moderation settings", 200, _ref("Settings")),
            "put": _op("Change moderation settings (admin)", 200, _ref("Settings"),
                       {"type": "object", "properties": SCHEMAS["Settings"]["properties"]}),
        },
    }


@cache
def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Causerie", "version": "1.0.0",
                 "description": "Threaded comments, moderation and an embeddable discussion."},
        "servers": [{"url": "/api/v1"}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "causerie_session"},
            },
        },
    }
