"""The demo article: its key, title, language and paragraphs, read from article.txt beside this file."""
from pathlib import Path

DEMO_KEY = "thinking-machines-cofondateurs-openai"
DEMO_ARTICLE = Path(__file__).resolve().parent / "article.txt"


def read_demo_article() -> dict:
    """Title, key, language and paragraphs of app/demo/article.txt.

    Format: ``name: value`` lines, a ``---`` line, then one paragraph a line.
    """
    head, _, text = DEMO_ARTICLE.read_text(encoding="utf-8").partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    return {"title": fields.get("title", ""), "key": fields.get("key", DEMO_KEY),
            "lang": fields.get("lang", "fr"),
            "paragraphs": [p.strip() for p in text.splitlines() if p.strip()]}


