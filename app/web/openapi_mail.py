"""The OpenAPI description of account recovery, notifications and webhooks (merged by ``openapi.py``)."""
from ..notifications.events import WEBHOOK_EVENTS
from .openapi_parts import (
    AFTER,
    ID,
    KEY_PARAM,
    LIMIT,
    REQUIRED_STR,
    STR,
    TIME,
    obj,
    op,
    path_param,
    ref,
)

_WEBHOOK_ID = path_param("webhook_id", ID)
_EVENTS = {"type": "array", "items": {"enum": list(WEBHOOK_EVENTS)}, "minItems": 1}
_ACCEPTED = obj({"status": STR}, ["status"])
_LANGUAGE = {"enum": ["en", "fr"]}
_EMAIL = {"type": "string", "format": "email", "maxLength": 254}

SCHEMAS: dict = {
    "Webhook": {
        "type": "object", "required": ["id", "url", "events", "description", "disabled", "created_at"],
        "properties": {"id": {"type": "integer"}, "url": STR, "events": _EVENTS, "description": STR,
                       "disabled": {"type": "boolean"}, "created_at": TIME,
                       "disabled_reason": {"type": ["string", "null"]}},
    },
    "WebhookDelivery": {
        "type": "object", "required": ["id", "event", "at", "status", "duration_ms", "attempt", "error"],
        "properties": {"id": {"type": "integer"}, "event": STR, "at": TIME,
                       "status": {"type": ["integer", "null"]}, "duration_ms": {"type": "integer"},
                       "attempt": {"type": "integer"}, "error": {"type": ["string", "null"]}},
    },
    "NotificationSettings": {
        "type": "object", "required": ["replies", "moderation"],
        "properties": {"replies": {"enum": ["off", "instant", "daily"]},
                       "moderation": {"enum": ["off", "instant", "hourly"]}},
    },
}


def paths() -> dict:
    webhook_fields = {"url": {"type": "string", "format": "uri", "maxLength": 2000}, "events": _EVENTS,
                      "description": {"type": "string", "maxLength": 500}}
    return {
        "/auth/password/forgot": {"post": op(
            "Mail a password-reset link (the same answer whether or not the address has an account)",
            202, _ACCEPTED, obj({"email": _EMAIL}, ["email"]))},
        "/auth/password/reset": {"post": op(
            "Set a new password with a reset link's token, ending every other session and token", 200,
            ref("Session"), obj({"token": REQUIRED_STR, "password": REQUIRED_STR}, ["token", "password"]))},
        "/auth/password": {"post": op(
            "Change the caller's password (the current one is required); other sessions end", 204,
            body=obj({"current_password": REQUIRED_STR, "password": REQUIRED_STR},
                     ["current_password", "password"]))},
        "/auth/email/verify": {"post": op(
            "Confirm an e-mail address with its link's token", 200, obj({"user": ref("User")}, ["user"]),
            obj({"token": REQUIRED_STR}, ["token"]))},
        "/auth/email/resend": {"post": op("Mail the verification link again", 202, _ACCEPTED)},
        "/me": {"patch": op("Change the caller's display name, e-mail address or language", 200, ref("User"),
                            obj({"display_name": {"type": "string", "minLength": 1, "maxLength": 64},
                                 "email": _EMAIL, "language": _LANGUAGE}))},
        "/me/notifications": {
            "get": op("The caller's notification settings", 200, ref("NotificationSettings")),
            "put": op("Change the caller's notification settings (moderation: staff only)", 200,
                      ref("NotificationSettings"), {"type": "object",
                                                    "properties": SCHEMAS["NotificationSettings"]["properties"]}),
        },
        "/articles/{key}/subscription": {
            "get": op("Whether the caller follows every reply in this discussion", 200,
                      obj({"subscribed": {"type": "boolean"}}, ["subscribed"]), params=[KEY_PARAM]),
            "put": op("Follow (or mute) the replies in this discussion", 200,
                      obj({"subscribed": {"type": "boolean"}}, ["subscribed"]),
                      obj({"subscribed": {"type": "boolean"}}, ["subscribed"]), [KEY_PARAM]),
        },
        "/webhooks": {
            "get": op("Webhook endpoints (admin)", 200,
                      obj({"webhooks": {"type": "array", "items": ref("Webhook")}}, ["webhooks"])),
            "post": op("Register an endpoint; its whsec_ secret is shown once (admin)", 201,
                       obj({"webhook": {"allOf": [ref("Webhook"), obj({"secret": STR}, ["secret"])]}}, ["webhook"]),
                       obj(webhook_fields, ["url", "events"])),
        },
        "/webhooks/{webhook_id}": {
            "patch": op("Change an endpoint (admin)", 200, ref("Webhook"),
                        obj(webhook_fields | {"disabled": {"type": "boolean"}}), [_WEBHOOK_ID]),
            "delete": op("Remove an endpoint (admin)", 204, params=[_WEBHOOK_ID]),
        },
        "/webhooks/{webhook_id}/deliveries": {"get": op(
            "An endpoint's deliveries, newest first (admin)", 200,
            obj({"deliveries": {"type": "array", "items": ref("WebhookDelivery")},
                 "next": {"type": ["string", "null"]}}, ["deliveries", "next"]),
            params=[_WEBHOOK_ID, LIMIT, AFTER])},
    }



