"""Rate-limit keys and exemptions shared by the views (Flask-Limiter does the counting)."""
from flask import current_app, request

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


def public_read(view):
    """Marks a public read (threads, comments, counts): never throttled, so a reader behind a busy
    NAT or a newsroom's proxy never loses the discussion (anonymous pages are served from cache)."""
    view.causerie_public_read = True
    return view


@limiter.request_filter
def _is_public_read() -> bool:
    # A request filter, not limiter.exempt: Flask-Limiter checks filters before resolving any limit,
    # which spares each read ~0.1 ms of bookkeeping.
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "causerie_public_read", False)
