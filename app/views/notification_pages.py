"""/unsubscribe and /moderation/act: the pages a notification's links open (HTML forms, no JavaScript).

A GET only shows what the link will do, with one button (mail scanners follow links); the button's
POST acts. Both forms are authorized by their link's token alone (``token_form``): no cookie, no
CSRF header (a mail provider's RFC 8058 one-click POST carries neither).
"""
from functools import partial

from flask import Blueprint, make_response, render_template, request

from ..extensions import db
from ..notifications import moderators, preferences
from ..notifications.links import BadLink
from ..web.caller import token_form
from ..web.i18n import pick_language, translate
from ..web.security import content_security_policy

bp = Blueprint("notification_pages", __name__)


def _page(template: str, status: int = 200, **context):
    """A private page: never cached, never framed, sending no Referer (the URL holds a token)."""
    lang = pick_language(request.args.get("lang"))
    response = make_response(render_template(template, lang=lang, t=partial(translate, lang),
                                             lang_query=request.args.get("lang") and lang, **context),
                             status)
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors="'none'")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _token() -> str:
    return request.form.get("token") or request.args.get("token") or ""


# -- /unsubscribe ----------------------------------------------------------------------------

@bp.get("/unsubscribe")
def unsubscribe_page():
    token = _token()
    try:
        scope, title = preferences.describe_unsubscribe(token)
    except BadLink:
        return _page("notifications/refused.html", 400, what="unsubscribe")
    return _page("notifications/unsubscribe.html", scope=scope, title=title, token=token, done=False)


@bp.post("/unsubscribe")
@token_form
def unsubscribe():
    token = _token()
    try:
        scope, title = preferences.unsubscribe(token)
    except BadLink:
        db.session.rollback()
        return _page("notifications/refused.html", 400, what="unsubscribe")
    db.session.commit()
    return _page("notifications/unsubscribe.html", scope=scope, title=title, token=token, done=True)


# -- /moderation/act ----------------------------------------------------------------------------

@bp.get("/moderation/act")
def act_page():
    token = _token()
    try:
        link = moderators.check_link(token)
    except BadLink:
        return _page("notifications/refused.html", 400, what="act")
    except moderators.NotPending as gone:
        return _decided(gone.link)
    return _page("notifications/act.html", link=link, item=link.shown, token=token, done=False)


@bp.post("/moderation/act")
@token_form
def act():
    token = _token()
    try:
        link = moderators.act(token)
    except BadLink:
        db.session.rollback()
        return _page("notifications/refused.html", 400, what="act")
    except moderators.NotPending as gone:
        db.session.rollback()
        return _decided(gone.link)
    db.session.commit()
    return _page("notifications/act.html", link=link, item=link.shown, token="", done=True)


def _decided(link):
    """409: someone decided on the comment since the message went out; nothing was done."""
    return _page("notifications/act.html", 409, link=link, item=link.shown, token="", done=False,
                 decided_status=str(link.comment.status))
