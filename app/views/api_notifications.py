"""/api/v1/me/notifications and /api/v1/articles/<key>/subscription: what a reader is told of."""
from flask import Blueprint

bp = Blueprint("api_notifications", __name__, url_prefix="/api/v1")
