"""/unsubscribe and /moderation/act: the pages a notification's links open (HTML forms, no JavaScript)."""
from flask import Blueprint

bp = Blueprint("notification_pages", __name__)
