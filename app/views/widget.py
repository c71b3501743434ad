"""The embeddable discussion: the loader script, the framed thread, the preview and the demo pages."""
import re
from pathlib import Path
from typing import Annotated

from flask import Blueprint, current_app, g, jsonify, render_template, request, send_from_directory
from pydantic import StringConstraints

from .. import articles, rules, threads
from ..auth_session import caller, require_active_user
from ..comments import prepare_body
from ..errors import ApiError
from ..extensions import db, limiter, write_phase
from ..i18n import pick_language, table, translate
from ..ratelimits import per_user, spend_per_ip
from ..security import allowed_origins, content_security_policy, host_origins
from ..serialize import article_json
from ..timeutil import isoformat, utcnow
from ..validation import Strict, body

bp = Blueprint("widget", __name__)

THEMES = ("light", "dark", "auto")
DEMO_KEY = "thinking-machines-cofondateurs-openai"
DEMO_ARTICLE = Path(__file__).resolve().parent.parent / "demo_article.txt"
# Replies below this depth are no longer indented; they say whom they answer instead.
INDENT_LEVELS = 5
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class PreviewRequest(Strict):
    body: Annotated[str, StringConstraints(max_length=200_000)]


def plural(lang: str, key: str, n: int) -> str:
    """``key_one`` or ``key_other`` with ``{n}`` filled (French counts 0 and 1 as singular)."""
    one = n < 2 if lang == "fr" else n == 1
    return translate(lang, f"{key}_{'one' if one else 'other'}", n=n)


@bp.context_processor
def _translations():
    lang = g.get("widget_lang", "en")
    return {"t": lambda name, /, **values: translate(lang, name, **values),
            "tn": lambda name, n: plural(lang, name, n), "lang": lang}


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
        if not articles.KEY_RE.fullmatch(key):
            raise ApiError(404, "not_found", "No such article.")
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
        "editWindow": rules.effective_settings()["edit_window_minutes"],
        "indentLevels": INDENT_LEVELS,
        "strings": _widget_strings(lang),
    }
    html = render_template("embed/thread.html", article=article, page=page, config=config,
                           theme=theme, now=isoformat(utcnow()), indent_levels=INDENT_LEVELS)
    return _frame_headers(current_app.make_response(html))


def _open_article(key: str):
    """The article the frame shows: found (the hot path: one query), created from an allowed host
    page (our demo pages count when PUBLIC_URL is set; creations are rate limited per IP address),
    or with a first view's provisional title and url corrected by a view from the host page."""
    title = _one_line(request.args.get("title"), 300)
    url = _one_line(request.args.get("url"), 2000)
    origins = host_origins()
    seen_on_page = articles.on_host_page(url, request.referrer, origins)
    article = articles.find_or_new_article(
        key, title, url, current_app.config["AUTO_CREATE_ARTICLES"], origins, seen_on_page)
    if article.id is None:
        spend_per_ip("RATELIMIT_ARTICLE_CREATE")
        with write_phase():
            article = articles.save_new_article(article)
            db.session.commit()
    elif seen_on_page and articles.is_provisional(article):
        with write_phase():
            articles.correct_provisional(article, title, url, seen_on_page)
            db.session.commit()
    return article


@bp.post("/api/v1/preview")
@limiter.limit(lambda: current_app.config.get("RATELIMIT_PREVIEW", "60 per minute"),
               key_func=per_user, scope="preview")
def preview():
    """The sanitized HTML a comment body would get, without saving anything (the composer's preview)."""
    require_active_user()
    source, html, _links = prepare_body(body(PreviewRequest).body, current_app.config["MAX_COMMENT_LENGTH"])
    return jsonify(body_html=html, length=len(source))


# -- demo host pages ---------------------------------------------------------------

def read_demo_article() -> dict:
    """Title, key, language and paragraphs of app/demo_article.txt.

    Format: ``name: value`` lines, a ``---`` line, then one paragraph a line.
    """
    head, _, text = DEMO_ARTICLE.read_text(encoding="utf-8").partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    return {"title": fields.get("title", ""), "key": fields.get("key", DEMO_KEY),
            "lang": fields.get("lang", "fr"),
            "paragraphs": [p.strip() for p in text.splitlines() if p.strip()]}


def _host_options() -> dict:
    theme = request.args.get("theme")
    lang = request.args.get("lang")
    return {"theme": theme if theme in THEMES else "light",
            "thread_lang": lang if lang in ("en", "fr") else None}


@bp.get("/")
def demo_article():
    g.widget_lang = "fr"
    story = read_demo_article()
    article = articles.get_article(story["key"])
    url = article.url if article is not None else _public_url("/")
    return render_template("demo/article.html", story=story, url=url, **_host_options())


@bp.get("/demo/<key:key>")
def demo_host(key: str):
    g.widget_lang = pick_language(request.args.get("lang"))
    return render_template("demo/host.html", key=key, url=_public_url(request.path), **_host_options())


def _public_url(path: str) -> str:
    """``path`` on PUBLIC_URL (the demo pages' own address, as the widget will check it); on the
    request's host only when PUBLIC_URL is unset, where the demo cannot create articles anyway."""
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + path
