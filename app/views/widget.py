"""The embeddable discussion: the loader script, the framed thread, the preview and the demo pages."""
import re
from typing import Annotated

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from pydantic import StringConstraints

from ..discussion import articles, threads
from ..discussion.posting import prepare_body
from ..discussion.serialize import article_json
from ..errors import ApiError
from ..extensions import db, limiter
from ..moderation import settings
from ..timeutil import isoformat, utcnow
from ..web.caller import caller, require_active_user
from ..web.i18n import pick_language, table, template_helpers
from ..web.ratelimits import per_user, spend_per_ip
from ..web.security import allowed_origins, content_security_policy, host_origins
from ..web.validation import Strict, body

bp = Blueprint("widget", __name__)


THEMES = ("light", "dark", "auto")


# Replies below this depth are no longer indented; they say whom they answer instead.
INDENT_LEVELS = 5


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class PreviewRequest(Strict):
    body: Annotated[str, StringConstraints(max_length=200_000)]


@bp.context_processor
def _translations():
    return template_helpers(g.get("widget_lang", "en"))


def _frame_headers(response):
    """The thread may be framed by the host sites only; every other page keeps frame-ancestors 'none'."""
    ancestors = " ".join(["'self'", *allowed_origins()])
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors=ancestors)
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("X-Frame-Options", None)
    return response


def _one_line(value: str | None, size: int) -> str | None:
    if value is None:
        return None
    return _CONTROL.sub(" ", value).strip()[:size] or None


def _widget_strings(lang: str) -> dict[str, str]:
    """The strings the frame's script needs (the rest is rendered by the server)."""
    prefix = "widget.js."
    return {key[len(prefix):]: text for key, text in table(lang).items() if key.startswith(prefix)}


@bp.get("/embed.js")
def loader():
    response = send_from_directory(current_app.static_folder, "embed.js",
                                   mimetype="text/javascript", max_age=300)
    # Any host page may load it; it carries no credentials and no user data.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/embed/thread")
def thread():
    lang = g.widget_lang = pick_language(request.args.get("lang"))
    theme = request.args.get("theme") if request.args.get("theme") in THEMES else "light"
    key = request.args.get("article", "")
    try:
        article = _open_article(key)
    except ApiError as error:
        page = render_template("embed/unavailable.html", error=error, theme=theme)
        response = current_app.make_response((page, error.status))
        response.headers.extend(error.headers)
        return _frame_headers(response)

    page = threads.thread_page(article, caller())
    parent = (request.args.get("origin") or "").lower().rstrip("/")
    config = {
        "article": article_json(article),
        "next": page["next"],
        "lang": lang,
        "api": request.script_root + "/api/v1",
        # Messages (height, count) go to this origin only, and only when it may frame us.
        "parentOrigin": parent if parent in host_origins() else None,
        "maxLength": current_app.config["MAX_COMMENT_LENGTH"],
        "maxDepth": current_app.config["MAX_DEPTH"],
        "editWindow": settings.effective_settings()["edit_window_minutes"],
        "indentLevels": INDENT_LEVELS,
    }
    html = render_template("embed/thread.html", article=article, page=page, config=config,
                           strings=_widget_strings(lang), theme=theme, now=isoformat(utcnow()),
                           indent_levels=INDENT_LEVELS)
    return _frame_headers(current_app.make_response(html))


def _open_article(key: str):
    """The article the frame shows; usually found with one query, but a first view from an allowed
    host page creates it (rate limited per IP address) and a view from the host page corrects a
    first view's provisional title and url: this GET then writes (``articles.open_for_view``)."""
    visit = articles.find_for_view(
        key, _one_line(request.args.get("title"), 300), _one_line(request.args.get("url"), 2000),
        request.referrer, current_app.config["AUTO_CREATE_ARTICLES"], host_origins())
    if not visit.writes:
        return visit.article
    if visit.creates:
        spend_per_ip("RATELIMIT_ARTICLE_CREATE")
    article = articles.open_for_view(visit)  # writes
    db.session.commit()
    return article


@bp.post("/api/v1/preview")
@limiter.limit(lambda: current_app.config.get("RATELIMIT_PREVIEW", "60 per minute"),
               key_func=per_user, scope="preview")
def preview():
    """The sanitized HTML a comment body would get, without saving anything (the composer's preview)."""
    require_active_user()
    prepared = prepare_body(body(PreviewRequest).body, current_app.config["MAX_COMMENT_LENGTH"])
    return jsonify(body_html=prepared.html, length=len(prepared.source))


