"""The demo host pages: the demo article at / and a plain page embedding any thread at /demo/<key>."""
from flask import Blueprint, current_app, g, render_template, request

from ..demo.story import read_demo_article
from ..discussion import articles
from ..web.i18n import LANGUAGES, pick_language, template_helpers
from .widget import THEMES

bp = Blueprint("demo_pages", __name__)


@bp.context_processor
def _translations():
    return template_helpers(g.get("widget_lang", "en"))


def _host_options() -> dict:
    theme = request.args.get("theme")
    lang = request.args.get("lang")
    return {"theme": theme if theme in THEMES else "light",
            "thread_lang": lang if lang in LANGUAGES else None}


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


