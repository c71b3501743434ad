"""/api/v1/webhooks: publishers' endpoints and their deliveries (admin)."""
from flask import Blueprint

bp = Blueprint("api_webhooks", __name__, url_prefix="/api/v1")
