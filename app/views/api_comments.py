"""/api/v1 comments: threads, posting, editing, deleting, votes and flags."""
from flask import Blueprint

bp = Blueprint("api_comments", __name__, url_prefix="/api/v1")
