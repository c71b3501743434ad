"""Response headers every document and API answer carries."""
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


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/") and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
