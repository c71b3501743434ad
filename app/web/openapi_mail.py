"""The OpenAPI description of account recovery, notifications and webhooks (merged by ``openapi.py``)."""

SCHEMAS: dict = {}


def paths() -> dict:
    return {}
