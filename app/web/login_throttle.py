"""Throttling failed log-ins; Flask-Limiter counts them in the storage every worker shares.

Failures count per account, whatever name or e-mail address (in whatever case) is typed; a login
that names no account counts under its normalised spelling, so it is throttled exactly like one
that does (429 tells nothing about which names exist). They also count per IP address.
A browser that logged in to the account before carries a signed device cookie (OWASP "device
cookies"): it is spared the account's lock, with a failure budget of its own, so an attacker
guessing the password cannot lock its owner out. During any lock the answer is the same 429 for
right and wrong passwords: the limits are checked before the password is.
"""
import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..accounts import sessions
from ..errors import ApiError
from ..extensions import limiter
from .ratelimits import client_address
from .validation import json_body

DEVICE_COOKIE = "causerie_device"
# The cookie is only ever needed by the log-in.
DEVICE_COOKIE_PATH = "/api/v1/auth/login"
_DEVICE_SALT = "causerie.device-cookie"
_DAY_SECONDS = 86400


def _failed(response) -> bool:
    return response.status_code == 401


def _typed_login() -> str:
    try:
        data = json_body()  # the strict parser: a hostile body must not fail here (deep nesting)
    except ApiError:
        return ""  # the view answers it
    login = data.get("login")
    return login[:254] if isinstance(login, str) else ""


def _account() -> tuple[int, str] | None:
    """The account the typed login names, as (id, creation time), looked up once a request.

    The creation time tells a deleted account from a later one that got its id again (SQLite).
    """
    if "login_account" not in g:
        login = _typed_login()
        user = sessions.find_account(login) if login.strip() else None
        g.login_account = (user.id, user.created_at.isoformat()) if user else None
    return g.login_account


def account_key() -> str:
    account = _account()
    if account is not None:
        return f"login:account:{account[0]}"
    return "login:name:" + sessions.login_key(_typed_login())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_DEVICE_SALT)


def _device() -> dict | None:
    """The valid device cookie of this request, ``{"user": id, "since": created_at, "device": nonce}``."""
    if "login_device" not in g:
        g.login_device = _read_device_cookie()
    return g.login_device


def _read_device_cookie() -> dict | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=current_app.config["DEVICE_COOKIE_DAYS"] * _DAY_SECONDS)
    except BadSignature:  # forged, or expired
        return None
    if not isinstance(data, dict) or not data.get("device"):
        return None
    return data


def trusted_device() -> bool:
    """Whether this browser logged in to the account the login names before."""
    device, account = _device(), _account()
    if device is None or account is None:
        return False
    return (device.get("user"), device.get("since")) == account


def device_key() -> str:
    device = _device()
    return f"login:device:{device['device'] if device else '-'}"


def _setting(name: str):
    return lambda: current_app.config[name]


def throttle_login(view):
    """The log-in's limits: per account (unless from a trusted device), per device, per IP address."""
    view = limiter.limit(_setting("RATELIMIT_LOGIN_FAILURES"), key_func=account_key, scope="login:account",
                         exempt_when=trusted_device, deduct_when=_failed)(view)
    view = limiter.limit(_setting("RATELIMIT_LOGIN_FAILURES_DEVICE"), key_func=device_key,
                         scope="login:device", exempt_when=lambda: not trusted_device(),
                         deduct_when=_failed)(view)
    return limiter.limit(_setting("RATELIMIT_LOGIN_FAILURES_IP"), key_func=client_address, scope="login:ip",
                         deduct_when=_failed)(view)


def remember_device(response, user) -> None:
    """After a successful log-in: mark this browser as one ``user`` logs in from."""
    config = current_app.config
    value = _serializer().dumps({"user": user.id, "since": user.created_at.isoformat(),
                                 "device": secrets.token_urlsafe(16)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=config["DEVICE_COOKIE_DAYS"] * _DAY_SECONDS,
                        path=DEVICE_COOKIE_PATH, httponly=True, secure=config["SESSION_COOKIE_SECURE"],
                        samesite=config["SESSION_COOKIE_SAMESITE"],
                        partitioned=config.get("SESSION_COOKIE_PARTITIONED", False))
