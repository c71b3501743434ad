"""The pieces the OpenAPI description is written with (``openapi.py``, ``openapi_mail.py``)."""
from ..discussion.articles import KEY_PATTERN
from .validation import MAX_ID


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
KEY = {"type": "string", "pattern": f"^{KEY_PATTERN}$"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}
AFTER = {"name": "after", "in": "query", "schema": {"type": "string"}}
REPLIES = {"name": "replies", "in": "query", "schema": {"type": "integer", "minimum": 0}}


def obj(properties: dict, required=()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required)}


def json_body(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def op(summary: str, ok: int | None, schema: dict | None = None, body: dict | None = None,
       params: list | None = None) -> dict:
    responses = {"default": {"description": "An error", **json_body(ref("Error"))}}
    if ok == 204:
        responses["204"] = {"description": "No content"}
    elif ok is not None:
        responses[str(ok)] = {"description": "OK", **json_body(schema or {"type": "object"})}
    operation = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, **json_body(body)}
    if params:
        operation["parameters"] = params
    return operation


def path_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


KEY_PARAM = path_param("key", KEY)
COMMENT_ID = path_param("comment_id", ID)
USER_ID = path_param("user_id", ID)
STR = {"type": "string"}
REQUIRED_STR = {"type": "string", "minLength": 1}
