"""Response headers every document and API answer carries."""
from urllib.parse import urlsplit

from flask import current_app, request

BASE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: https:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**overrides: str) -> str:
    """The CSP header value; views may override directives (the widget sets frame-ancestors)."""
    policy = {**BASE_CSP, **{k.replace("_", "-"): v for k, v in overrides.items()}}
    return "; ".join(f"{name} {value}" for name, value in policy.items())


DEFAULT_CSP = content_security_policy()


def allowed_origins() -> list[str]:
    raw = current_app.config.get("ALLOWED_ORIGINS") or ""
    if isinstance(raw, (list, tuple)):
        return [o.strip().rstrip("/") for o in raw if o.strip()]
    return [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]


def public_origin() -> str | None:
    """The origin of ``PUBLIC_URL`` (lowercased), None when unset: our own origin is never taken
    from the request, whose Host header anyone may set."""
    parts = urlsplit(current_app.config.get("PUBLIC_URL") or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def host_origins() -> list[str]:
    """Origins whose pages may frame the thread, receive its messages and create articles
    implicitly: ``ALLOWED_ORIGINS`` and our own (``PUBLIC_URL``, for the demo pages)."""
    own = public_origin()
    return [o.lower() for o in allowed_origins()] + ([own] if own else [])


# Set on every response unless a view chose its own value.
_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response):
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass: Headers lookups are linear scans
    csp = headers.get("Content-Security-Policy")
    if csp is None:
        csp = DEFAULT_CSP
        headers.add("Content-Security-Policy", csp)
    if "frame-ancestors 'none'" in csp and "x-frame-options" not in present:
        headers.add("X-Frame-Options", "DENY")
    for name, value in _ALWAYS:
        if name.lower() not in present:
            headers.add(name, value)
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", _HSTS)
    if "cache-control" not in present and request.path.startswith("/api/"):
        headers.add("Cache-Control", "no-store")
    return response
