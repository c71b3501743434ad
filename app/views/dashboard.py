"""The stand-alone HTML pages: log in, register, and the moderator dashboard.

They are server-rendered shells; small scripts in static/auth and static/moderation talk to
the JSON API (same origin, session cookie, X-CSRF-Token from GET /api/v1/auth/me).
"""
from functools import partial

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from ..accounts.standing import acts_as_moderator
from ..discussion.articles import KEY_PATTERN, KEY_RE
from ..models import Premoderation, values
from ..moderation.queues import QUEUES
from ..web.caller import caller
from ..web.i18n import pick_language, table, translate
from ..web.next_path import safe_next
from ..web.security import content_security_policy

bp = Blueprint("dashboard", __name__)

PANELS = ("log", "settings", "spam-filter")  # the tabs that are not queues
TABS = (*QUEUES, *PANELS)
SETTINGS_FIELDS = ("premoderation", "trusted_after", "max_links", "flag_threshold",
                   "edit_window_minutes", "banned_words", "suspect_words")


def _strings(lang: str, prefix: str) -> dict[str, str]:
    """The strings a page's script needs, keyed without ``prefix``."""
    return {key[len(prefix):]: text for key, text in table(lang).items() if key.startswith(prefix)}


def _page(template: str, status: int = 200, referrer_policy: str = "same-origin", **context):
    """A private page: never cached, never framed, no inline script (the app's default CSP)."""
    lang = pick_language(request.args.get("lang"))
    t = partial(translate, lang)
    response = make_response(render_template(template, lang=lang, t=t, **context), status)
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors="'none'")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = referrer_policy
    return response


def _auth_page(template: str, mode: str):
    lang = pick_language(request.args.get("lang"))
    next_path = safe_next(request.args.get("next"))
    user = caller()
    other = "register" if mode == "login" else "login"
    return _page(
        template,
        referrer_policy="no-referrer",
        mode=mode,
        next_path=next_path,
        user=user,
        other_url=url_for(f"dashboard.{other}", next=next_path if next_path != "/" else None,
                          lang=request.args.get("lang") and lang),
        strings=_strings(lang, "auth.js."),
    )


@bp.get("/login")
def login():
    return _auth_page("auth/login.html", "login")


@bp.get("/register")
def register():
    return _auth_page("auth/register.html", "register")


@bp.get("/moderation")
def moderation():
    user = caller()
    if user is None:
        response = redirect("/login?next=/moderation", 302)
        response.headers["Cache-Control"] = "no-store"
        return response
    if not acts_as_moderator(user):
        return _page("moderation/forbidden.html", status=403, user=user)
    lang = pick_language(request.args.get("lang"))
    tab = request.args.get("queue", QUEUES[0])
    article = request.args.get("article", "")
    return _page(
        "moderation/dashboard.html",
        user=user,
        queues=QUEUES,
        panels=PANELS,
        tab=tab if tab in TABS else QUEUES[0],
        article=article if KEY_RE.fullmatch(article) else "",
        article_key_pattern=KEY_PATTERN,
        premoderation_modes=values(Premoderation),
        settings_fields=SETTINGS_FIELDS,
        strings=_strings(lang, "dash.js."),
    )
