"""Rate-limit keys and exemptions shared by the views (Flask-Limiter does the counting)."""
from flask import current_app

from .auth_session import caller
from .extensions import client_address, limiter


def per_user() -> str:
    user = caller()
    return f"user:{user.id}" if user else f"ip:{client_address()}"


def staff_exempt() -> bool:
    """Moderators and admins are not throttled: they clean up floods."""
    user = caller()
    return user is not None and user.is_moderator


def limit(setting: str, per: str = "user"):
    """A decorator applying the limits of config ``setting``, counted per user or per IP address."""
    return limiter.limit(lambda: current_app.config[setting],
                         key_func=per_user if per == "user" else client_address,
                         exempt_when=staff_exempt, scope=f"{setting}:{per}")
