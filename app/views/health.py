"""/healthz and the OpenAPI document."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from ..extensions import db
from ..web.openapi import openapi_document

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.get("/api/v1/openapi.json")
def openapi():
    response = jsonify(openapi_document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
