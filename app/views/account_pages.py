"""/reset and /verify: the pages a mailed account link opens (HTML forms, no JavaScript needed).

Opening a link (GET) never changes anything: it shows a form whose button posts the token back
(mail scanners that follow links must not use them up). The posts are ``token_form`` views, authorized
by the token they carry, so they need no X-CSRF-Token. Pages whose URL holds a token are sent with
``Referrer-Policy: no-referrer``; none is cached.
"""
from functools import partial

from flask import (
    Blueprint,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)

from ..accounts import recovery
from ..errors import ApiError
from ..extensions import db
from ..web.caller import token_form
from ..web.i18n import pick_language, translate
from ..web.security import content_security_policy
from .api_auth import forgot_limit

bp = Blueprint("account_pages", __name__)


def _page(template: str, title_key: str, status: int = 200, **context):
    """A private page in the reader's language (?lang= or Accept-Language): never cached, framed or
    referred."""
    lang = pick_language(request.args.get("lang"))
    explicit = request.args.get("lang") and lang
    links = None
    if request.method == "GET":
        args = {"token": request.args["token"]} if request.args.get("token") else {}
        links = {code: url_for(request.endpoint, **args, lang=code) for code in ("en", "fr")}
    response = make_response(render_template(
        template, lang=lang, lang_param=explicit or None, t=partial(translate, lang), title_key=title_key,
        lang_links=links, **context), status)
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors="'none'")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _bad_link(purpose: str):
    db.session.rollback()
    return _page("account/bad_link.html", "account.bad_link.title", 400, purpose=purpose)


def _lang() -> str:
    return pick_language(request.args.get("lang"))


@bp.get("/reset")
def reset_page():
    token = request.args.get("token")
    if not token:
        return _page("account/forgot.html", "account.forgot.title")
    try:
        user = recovery.check_reset_link(token)
    except recovery.LinkRefused:
        return _bad_link("reset")
    return _page("account/reset.html", "account.reset.title", token=token, username=user.username)


@bp.post("/reset/forgot")
@token_form
@forgot_limit
def forgot_submit():
    email = request.form.get("email", "").strip()
    try:
        recovery.request_reset(email)
    except ApiError:
        db.session.rollback()
        return _page("account/forgot.html", "account.forgot.title", 422, email=email,
                     error=translate(_lang(), "account.forgot.invalid"))
    db.session.commit()
    return _page("account/sent.html", "account.sent.title", email=email)


@bp.post("/reset")
@token_form
def reset_submit():
    token = request.form.get("token", "")
    password = request.form.get("password", "")
    try:
        user = recovery.check_reset_link(token)
        if password != request.form.get("confirm", ""):
            error = translate(_lang(), "account.reset.mismatch")
        else:
            recovery.reset_password(token, password, current_app.config["PASSWORD_HASH_METHOD"])
            db.session.commit()
            return _page("account/done.html", "account.done.title")
    except recovery.LinkRefused:
        return _bad_link("reset")
    except ApiError as exc:  # the password is refused (422): say why, keep the form
        db.session.rollback()
        reason = "; ".join((exc.fields or {}).values()) or exc.message
        error = translate(_lang(), "account.reset.refused", reason=reason)
    return _page("account/reset.html", "account.reset.title", 422, token=token, username=user.username,
                 error=error)


@bp.get("/verify")
def verify_page():
    token = request.args.get("token", "")
    try:
        user = recovery.check_verify_link(token)
    except recovery.LinkRefused:
        return _bad_link("verify")
    return _page("account/verify.html", "account.verify.title", token=token, email=user.email,
                 username=user.username)


@bp.post("/verify")
@token_form
def verify_submit():
    try:
        user = recovery.verify_email(request.form.get("token", ""))
    except recovery.LinkRefused:
        return _bad_link("verify")
    db.session.commit()
    return _page("account/verified.html", "account.verified.title", email=user.email)
