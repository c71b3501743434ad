"""Who is calling: session cookies and bearer tokens, the CSRF check, and permission guards."""
import copy
import hmac
import secrets
import time
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from itsdangerous import BadSignature

from ..accounts import sessions, tokens
from ..accounts.standing import refuse_banned
from ..database import run, run_side_by_side
from ..errors import ApiError, forbidden, unauthorized
from ..extensions import login_manager
from ..models import User
from .security import allowed_origins

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_token() -> str:
    """The CSRF token of this session, created on first use; valid for the life of the session."""
    token = session.get("csrf_token")
    if not token:
        token = session["csrf_token"] = secrets.token_urlsafe(32)
    return token


def _bearer() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized("The Authorization header must be 'Bearer <token>'.")
    return value.strip()


@login_manager.user_loader
def _load_from_session(key: str) -> User | None:
    if "Authorization" in request.headers:
        return None  # a bearer token, when sent, decides alone
    return sessions.load_session_user(key)


@login_manager.request_loader
def _load_from_bearer(_request) -> User | None:
    raw = _bearer()
    if raw is None:
        return None
    return _token_user(tokens.find_token(raw))


def _token_user(found: tokens.FoundToken | None) -> User:
    if found is None:
        raise unauthorized("The bearer token is invalid, expired or revoked.")
    tokens.record_token_use(found.id, found.last_used_at)
    return found.User


def by_bearer_token() -> bool:
    """Whether the caller authenticates with a bearer token (which then decides alone)."""
    return "Authorization" in request.headers


@login_manager.unauthorized_handler
def _unauthorized():
    raise unauthorized("You need to log in first.")


def _same_or_allowed_origin(origin: str) -> bool:
    own = f"{request.scheme}://{request.host}"
    return origin == own or origin in allowed_origins()


# Endpoints of HTML forms authorized by the signed token they carry (a mailed link's), never by the
# session cookie: they need no X-CSRF-Token and stay open to banned readers (unsubscribing, a reset).
TOKEN_FORMS: set[str] = set()


def token_form(view):
    """Mark a view as a form authorized by its link's token alone (see TOKEN_FORMS)."""
    TOKEN_FORMS.add(f"{view.__module__.rpartition('.')[2]}.{view.__name__}")
    return view


def _is_token_form() -> bool:
    return request.endpoint in TOKEN_FORMS


def check_csrf() -> None:
    """Cookie-authenticated writes need the session's X-CSRF-Token and a trusted Origin."""
    if request.method not in UNSAFE_METHODS or "Authorization" in request.headers:
        return
    if _is_token_form():
        # Authorized by the link's token, never by a cookie: whoever sends it acts as the link says,
        # from any origin (a page sent with no-referrer posts with "Origin: null").
        return
    origin = request.headers.get("Origin")
    if origin is None and request.referrer:
        parts = urlsplit(request.referrer)
        origin = f"{parts.scheme}://{parts.netloc}"
    # A browser sends Origin on cross-site writes: refuse foreign ones even without a cookie
    # (a cross-site login would sign the victim into the attacker's account).
    if origin is not None and not _same_or_allowed_origin(origin):
        raise ApiError(403, "csrf_failed", "This request comes from an origin that is not allowed.")
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return
    expected = session.get("csrf_token")
    sent = request.headers.get("X-CSRF-Token", "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise ApiError(403, "csrf_failed", "The X-CSRF-Token header is missing or wrong.")


def _has_credentials() -> bool:
    return "Authorization" in request.headers or current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def caller() -> User | None:
    """The authenticated user, or None for an anonymous caller."""
    if not _has_credentials():
        return None  # most readers: nothing to look up (Flask-Login would still hash the client's address)
    user = current_user._get_current_object()
    return user if user.is_authenticated else None


# Views that resolve the caller themselves, with ``caller_and``: ``_authenticate`` leaves them the bearer
# token, and ``refuse_banned_writes`` the ban (such a write calls ``require_active_user``).
READS_WITH_CALLER: set[str] = set()


def reads_with_caller(view):
    """Mark a view that calls ``caller_and`` before anything else (a bad bearer token is then its 401).
    A view that only reads leaves its caller detached (``attach=False``); one that writes calls
    ``require_active_user`` right after."""
    READS_WITH_CALLER.add(f"{view.__module__.rpartition('.')[2]}.{view.__name__}")
    return view


def caller_and(statement, params: dict, attach: bool = False) -> tuple[User | None, tuple | None]:
    """The caller, and the row of ``statement`` (a read that finds at most one row, built once: a page's
    head, a post's article), read in one statement: a logged-in page view then costs one round trip on
    PostgreSQL, as an anonymous one does, instead of two (docs/performance.md). ``attach``: the caller
    is put in the database session, for a view that writes."""
    known = "_login_user" in g  # already read (Flask-Login keeps it there)
    raw = _bearer() if not known and _has_credentials() else None
    key = session.get("_user_id") if not known and raw is None else None
    if raw is None and not key:  # anonymous, or the caller already known: nothing to read with it
        rows = run(statement, params, own_connection=True)
        return caller(), rows[0] if rows else None
    who, who_params = ((tokens.TOKEN_IN_FORCE, tokens.token_params(raw)) if raw is not None
                       else (sessions.SESSION_USER, sessions.session_user_params(key)))
    row, found = run_side_by_side((statement, who), {**params, **who_params})
    # Detached (every column loaded) for a view that only reads: a page view served from the cache then
    # opens no database session at all, as an anonymous one (docs/performance.md).
    user = (_token_user(tokens.found_token(found, attach=attach)) if raw is not None
            else sessions.session_user(found, key, attach=attach))
    login_manager._update_request_context_with_user(user)
    return caller(), row


def require_user() -> User:
    user = caller()
    if user is None:
        raise unauthorized("You need to log in first.")
    return user


def require_active_user() -> User:
    """A logged-in user who is not banned: the guard of every write."""
    user = require_user()
    refuse_banned(user)
    return user


def require_moderator() -> User:
    """A moderator or admin who is not banned: a ban takes every moderation power, reads included."""
    user = require_active_user()
    if not user.is_moderator:
        raise forbidden("This needs a moderator.")
    return user


def require_admin() -> User:
    user = require_active_user()
    if not user.is_admin:
        raise forbidden("This needs an administrator.")
    return user


# Writes a banned account may still make: ending its own access, or signing in afresh.
ALLOWED_WHILE_BANNED = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/logout-everywhere"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/sso"),
    ("DELETE", "/api/v1/auth/tokens/<id:token_id>"),
    ("DELETE", "/api/v1/me"),
    # Recovering the account: a ban does not take the right to a working password or address.
    ("POST", "/api/v1/auth/password/forgot"),
    ("POST", "/api/v1/auth/password/reset"),
    ("POST", "/api/v1/auth/email/verify"),
}


def refuse_banned_writes() -> None:
    """Every write of a banned caller is 403 banned, whatever its route forgets to check."""
    if request.method not in UNSAFE_METHODS or request.url_rule is None or not _has_credentials():
        return
    if ((request.method, request.url_rule.rule) in ALLOWED_WHILE_BANNED or _is_token_form()
            or request.endpoint in READS_WITH_CALLER):
        return
    user = caller()
    if user is not None:
        refuse_banned(user)


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without building its signer for requests that carry no cookie,
    with one signer per app (Flask builds one per request) while the secret key stays the same, and
    the contents of each cookie kept once its signature is verified: a logged-in reader sends the same
    cookie with every page view, and checking it anew cost 6% of such a view (docs/performance.md)."""

    MAX_KEPT = 4096  # cookies whose contents are kept per process; the set starts afresh when full

    def open_session(self, app, request):
        raw = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if not raw:
            return self.session_class()
        signer, opened = self._signer(app)
        if signer is None:  # no secret key: Flask's own answer (a session that refuses to be written)
            return None
        max_age = int(app.permanent_session_lifetime.total_seconds())
        found = opened.get(raw)
        if found is None:
            try:
                data, signed_at = signer.loads(raw, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if len(opened) >= self.MAX_KEPT:
                opened.clear()
            found = opened[raw] = (data, int(signed_at.timestamp()))
        data, signed_at = found
        if not 0 <= int(time.time()) - signed_at <= max_age:  # expired since, as the signer would say
            opened.pop(raw, None)
            return self.session_class()
        return self.session_class(copy.deepcopy(data))  # the session may change it; the kept one stays

    def get_signing_serializer(self, app):
        return self._signer(app)[0]

    def _signer(self, app):
        kept = app.extensions.get("causerie_session_signer")
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if kept is None or kept[0] != keys:  # a new key: a new signer, and nothing verified with the old
            kept = (keys, super().get_signing_serializer(app), {})
            app.extensions["causerie_session_signer"] = kept
        return kept[1], kept[2]


def init_app(app) -> None:
    app.session_interface = CookieSessionInterface()
    login_manager.session_protection = None  # sessions are server-side rows; see sessions.start_session
    app.before_request(_authenticate)
    app.before_request(check_csrf)
    app.before_request(refuse_banned_writes)


def _authenticate() -> None:
    # A bad bearer token is 401 on every route, even one that never asks who is calling (those that
    # read it beside their page's head answer it first thing).
    if "Authorization" in request.headers and request.endpoint not in READS_WITH_CALLER:
        caller()
