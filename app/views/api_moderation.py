"""/api/v1/moderation: queues, decisions, bans, the audit log and settings."""
from flask import Blueprint

bp = Blueprint("api_moderation", __name__, url_prefix="/api/v1")
