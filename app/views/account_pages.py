"""/reset and /verify: the pages a mailed account link opens (HTML forms, no JavaScript needed)."""
from flask import Blueprint

bp = Blueprint("account_pages", __name__)
