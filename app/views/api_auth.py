"""/api/v1/auth: register, log in and out, who am I, API tokens, single sign-on, password reset and
change, e-mail verification; user roles; the reader's own settings (PATCH /me)."""
from typing import Annotated

from flask import Blueprint, current_app, jsonify, session
from flask_login import login_user, logout_user
from pydantic import Field, StringConstraints

from ..accounts import (
    passwords,
    privacy,
    profile,
    recovery,
    registration,
    roles,
    sessions,
    tokens,
)
from ..accounts import sso as accounts_sso
from ..accounts.serialize import token_json, user_json
from ..errors import forbidden, unauthorized, validation_error
from ..extensions import db, limiter
from ..models import Role, values
from ..timeutil import isoformat
from ..web.caller import (
    by_bearer_token,
    caller,
    csrf_token,
    require_active_user,
    require_admin,
    require_user,
)
from ..web.i18n import pick_language
from ..web.login_throttle import remember_device, throttle_login
from ..web.ratelimits import client_address, per_user
from ..web.ratelimits import limit as rate_limit
from ..web.validation import Line, Strict, body, json_body, parse_fields

bp = Blueprint("api_auth", __name__, url_prefix="/api/v1")


class Registration(Strict):
    """Types only: registration.registration_problems checks the values, every field in one pass."""
    username: str
    email: str
    password: str
    display_name: str | None = None
    language: str | None = None  # "en" or "fr"; default: the request's Accept-Language


class Login(Strict):
    login: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=passwords.MAX_PASSWORD)]
    remember: bool = False


class TokenRequest(Strict):
    name: Annotated[Line, StringConstraints(min_length=1, max_length=100)]
    expires_in_days: Annotated[int, Field(ge=1, le=tokens.MAX_TOKEN_DAYS)] | None = None


class SsoRequest(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class ForgotRequest(Strict):
    email: Annotated[str, StringConstraints(max_length=1000)]


class LinkToken(Strict):
    token: Annotated[str, StringConstraints(max_length=2000)]


class ResetRequest(LinkToken):
    password: str


class PasswordChange(Strict):
    current_password: Annotated[str, StringConstraints(max_length=passwords.MAX_PASSWORD)]
    password: str


class ProfileChange(Strict):
    """Only these fields are read: anything else (a role, an id) is ignored."""
    display_name: str | None = None
    email: str | None = None
    language: str | None = None


# One budget per IP address for the API and the /reset page alike.
forgot_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_PASSWORD_FORGOT"],
                                    scope="password_forgot", key_func=client_address)


class RoleChange(Strict):
    role: Annotated[str, Field(pattern=f"^({'|'.join(values(Role))})$")]


def _login_response(user, status: int):
    """Start a fresh session for ``user`` (no fixation: the old one is discarded) and answer it."""
    sessions.end_session(session.get("_user_id"))
    session.clear()
    remember = bool(getattr(user, "_remember", False))
    sessions.start_session(user, remember, current_app.config["REMEMBER_DAYS"])
    session.permanent = remember
    login_user(user)
    db.session.commit()
    return jsonify(user=user_json(user, user), csrf_token=csrf_token()), status


@bp.get("/auth/me")
def me():
    user = caller()
    return jsonify(user=user_json(user, user) if user else None, csrf_token=csrf_token())


@bp.post("/auth/register")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"])
def register():
    fields, problems = parse_fields(Registration, json_body())
    language = fields.pop("language", None)
    if problems:  # a field of the wrong type: report it with whatever is wrong with the others
        raise validation_error(registration.registration_problems(**fields) | problems)
    user = registration.register(**fields, hash_method=current_app.config["PASSWORD_HASH_METHOD"],
                                 language=pick_language() if language is None else language)
    return _login_response(user, 201)


@bp.post("/auth/login")
@throttle_login
def login():
    data = body(Login)
    user = sessions.authenticate(data.login, data.password)  # slow: before start_session's write lock
    if user is None:
        raise unauthorized("Wrong username, e-mail address or password.")
    user._remember = data.remember
    response, status = _login_response(user, 200)
    remember_device(response, user)
    return response, status


@bp.post("/auth/logout")
def logout():
    sessions.end_session(session.get("_user_id"))
    logout_user()
    session.clear()
    db.session.commit()
    return "", 204


@bp.post("/auth/logout-everywhere")
def logout_everywhere():
    user = require_user()  # banned accounts too: ending their own access is always allowed
    tokens.end_all_access(user)
    logout_user()
    session.clear()
    db.session.commit()
    return "", 204


@bp.post("/auth/sso")
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO"])
def sso():
    data = body(SsoRequest)
    user = accounts_sso.sso_login(data.token, current_app.config["SSO_SECRET"])
    return _login_response(user, 200)


@bp.post("/auth/tokens")
def create_token():
    user = require_user()
    if by_bearer_token():  # else a stolen token could mint successors that outlive its revocation
        raise forbidden("API tokens are created from a logged-in session, not with a token.")
    data = body(TokenRequest)
    token, raw = tokens.create_token(user, data.name, data.expires_in_days)
    db.session.commit()
    return jsonify(id=token.id, name=token.name, token=raw, created_at=isoformat(token.created_at),
                   expires_at=isoformat(token.expires_at)), 201


@bp.get("/auth/tokens")
def list_tokens():
    user = require_user()
    return jsonify(tokens=[token_json(token) for token in tokens.list_tokens(user)])


@bp.delete("/auth/tokens/<id:token_id>")
def revoke_token(token_id: int):
    user = require_user()
    tokens.revoke_token(user, token_id)
    db.session.commit()
    return "", 204


@bp.put("/users/<id:user_id>/role")
def set_role(user_id: int):
    admin = require_admin()
    data = body(RoleChange)
    user = roles.set_role(user_id, data.role)
    db.session.commit()
    return jsonify(user_json(user, admin))


@bp.get("/me/export")
def export_me():
    user = require_user()
    return jsonify(privacy.export_account(user))


@bp.delete("/me")
def delete_me():
    user = require_user()
    privacy.delete_account(user, current_app.config["ANONYMIZE_ON_DELETE"])
    logout_user()
    session.clear()
    db.session.commit()
    return "", 204


@bp.post("/auth/password/forgot")
@forgot_limit
def forgot_password():
    data = body(ForgotRequest)
    recovery.request_reset(data.email)
    db.session.commit()
    return jsonify(status="accepted"), 202  # the same whether or not an account has the address


@bp.post("/auth/password/reset")
def reset_password():
    data = body(ResetRequest)
    try:
        user = recovery.reset_password(data.token, data.password, current_app.config["PASSWORD_HASH_METHOD"])
    except recovery.LinkRefused:
        raise recovery.bad_link_error() from None
    return _login_response(user, 200)


@bp.post("/auth/password")
# Wrong current passwords count like failed logins, per account: a stolen session cannot guess it.
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_FAILURES"], key_func=per_user,
               scope="password-change-failures", deduct_when=lambda response: response.status_code == 403)
def change_password():
    user = require_user()
    data = body(PasswordChange)
    keep = None if by_bearer_token() else session.get("_user_id")  # a token call ends every cookie session
    recovery.change_password(user, data.current_password, data.password,
                             current_app.config["PASSWORD_HASH_METHOD"], keep)
    db.session.commit()
    return "", 204


@bp.post("/auth/email/verify")
def verify_email():
    data = body(LinkToken)
    try:
        user = recovery.verify_email(data.token)
    except recovery.LinkRefused:
        raise recovery.bad_link_error() from None
    db.session.commit()
    return jsonify(user=user_json(user, user))


@bp.post("/auth/email/resend")
@rate_limit("RATELIMIT_EMAIL_RESEND", per="user")
def resend_verification():
    user = require_user()
    recovery.resend_verification(user)  # nothing is sent when the address is verified already
    db.session.commit()
    return jsonify(status="accepted"), 202


@bp.patch("/me")
def update_me():
    user = require_active_user()
    data = body(ProfileChange)
    profile.update_profile(user, data.display_name, data.email, data.language)
    db.session.commit()
    return jsonify(user_json(user, user))
