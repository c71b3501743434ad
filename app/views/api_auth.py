"""/api/v1/auth: register, log in and out, who am I, API tokens, single sign-on; user roles."""
from typing import Annotated

from flask import Blueprint, current_app, jsonify, session
from flask_login import login_user, logout_user
from pydantic import EmailStr, Field, StringConstraints

from .. import accounts, privacy
from ..auth_session import caller, csrf_token, require_admin, require_user
from ..errors import ApiError
from ..extensions import db, limiter
from ..serialize import user_json
from ..timeutil import isoformat
from ..validation import Line, Strict, body

bp = Blueprint("api_auth", __name__, url_prefix="/api/v1")


class Registration(Strict):
    username: Annotated[str, StringConstraints(max_length=64)]
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    password: Annotated[str, StringConstraints(max_length=accounts.MAX_PASSWORD)]
    display_name: Annotated[Line, StringConstraints(min_length=1, max_length=64)] | None = None


class Login(Strict):
    login: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=accounts.MAX_PASSWORD)]
    remember: bool = False


class TokenRequest(Strict):
    name: Annotated[Line, StringConstraints(min_length=1, max_length=100)]


class SsoRequest(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class RoleChange(Strict):
    role: Annotated[str, Field(pattern="^(reader|moderator|admin)$")]


def _login_response(user, status: int):
    """Start a fresh session for ``user`` (no fixation: the old one is discarded) and answer it."""
    accounts.end_session(session.get("_user_id"))
    session.clear()
    remember = bool(getattr(user, "_remember", False))
    accounts.start_session(user, remember, current_app.config["REMEMBER_DAYS"])
    session.permanent = remember
    login_user(user)
    db.session.commit()
    return jsonify(user=user_json(user, user), csrf_token=csrf_token()), status


def _login_failures_key() -> str:
    from flask import request
    data = request.get_json(silent=True)
    login = data.get("login") if isinstance(data, dict) else None
    return f"login:{str(login).strip().casefold()[:254]}"


@bp.get("/auth/me")
def me():
    user = caller()
    return jsonify(user=user_json(user, user) if user else None, csrf_token=csrf_token())


@bp.post("/auth/register")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"])
def register():
    data = body(Registration)
    user = accounts.register(data.username.strip(), str(data.email), data.password,
                             data.display_name, current_app.config["PASSWORD_HASH_METHOD"])
    return _login_response(user, 201)


@bp.post("/auth/login")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_FAILURES"], key_func=_login_failures_key,
               deduct_when=lambda response: response.status_code == 401)
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_FAILURES_IP"],
               deduct_when=lambda response: response.status_code == 401)
def login():
    data = body(Login)
    user = accounts.authenticate(data.login, data.password)
    if user is None:
        raise ApiError(401, "unauthorized", "Wrong username, e-mail address or password.")
    user._remember = data.remember
    return _login_response(user, 200)


@bp.post("/auth/logout")
def logout():
    accounts.end_session(session.get("_user_id"))
    logout_user()
    session.clear()
    db.session.commit()
    return "", 204


@bp.post("/auth/sso")
@limiter.limit(lambda: current_app.config["RATELIMIT_SSO"])
def sso():
    data = body(SsoRequest)
    user = accounts.sso_login(data.token, current_app.config["SSO_SECRET"])
    return _login_response(user, 200)


@bp.post("/auth/tokens")
def create_token():
    user = require_user()
    data = body(TokenRequest)
    token, raw = accounts.create_token(user, data.name)
    db.session.commit()
    return jsonify(id=token.id, name=token.name, token=raw,
                   created_at=isoformat(token.created_at)), 201


@bp.delete("/auth/tokens/<id:token_id>")
def revoke_token(token_id: int):
    user = require_user()
    accounts.revoke_token(user, token_id)
    db.session.commit()
    return "", 204


@bp.put("/users/<id:user_id>/role")
def set_role(user_id: int):
    admin = require_admin()
    data = body(RoleChange)
    user = accounts.set_role(user_id, data.role)
    db.session.commit()
    return jsonify(user_json(user, admin))


@bp.get("/me/export")
def export_me():
    user = require_user()
    return jsonify(privacy.export_account(user))


@bp.delete("/me")
def delete_me():
    user = require_user()
    accounts.end_all_sessions(user)
    privacy.delete_account(user, current_app.config["ANONYMIZE_ON_DELETE"])
    logout_user()
    session.clear()
    db.session.commit()
    return "", 204
