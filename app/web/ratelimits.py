"""Rate-limit keys and exemptions shared by the views (Flask-Limiter does the counting)."""
import math
import time

from flask import current_app, request
from limits import parse_many

from ..errors import ApiError
from ..extensions import limiter
from .caller import caller


def client_address():
    """The caller's address for rate limits: the socket peer (proxies are trusted only through ProxyFix)."""
    return request.remote_addr or "unknown"


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


def spend_per_ip(setting: str) -> None:
    """Count one use of the limits of config ``setting`` against the caller's IP address, for what
    only some outcomes of a request cost (an article actually created); 429 with Retry-After past them."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"] or staff_exempt():
        return
    keys = [k for k in (config.get("RATELIMIT_KEY_PREFIX"), setting, f"ip:{client_address()}") if k]
    for item in parse_many(config[setting]):
        if not limiter.limiter.hit(item, *keys):
            reset = limiter.limiter.get_window_stats(item, *keys).reset_time
            raise ApiError(429, "rate_limited", headers={"Retry-After": str(max(1, math.ceil(reset - time.time())))})


def public_read(view):
    """Marks a public read (threads, comments, counts): never throttled, so a reader behind a busy
    NAT or a newsroom's proxy never loses the discussion (anonymous pages are served from cache)."""
    view.causerie_public_read = True
    return view


@limiter.request_filter
def _is_public_read() -> bool:
    # A request filter, not limiter.exempt: Flask-Limiter checks filters before resolving any limit.
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "causerie_public_read", False)
