"""The translation tables: English and French strings for the pages, the widget and e-mail.

Strings live in ``translations/<area>.<lang>.json`` (one file per area, so each can be edited on its
own); English is the fallback. Pure lookups, usable outside a request (the worker writes e-mail).
"""
import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "fr")
_DIR = Path(__file__).resolve().parent


@cache
def table(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(_DIR.glob(f"*.{lang}.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(lang: str, key: str, **values) -> str:
    text = table(lang).get(key) or table("en").get(key) or key
    return text.format(**values) if values else text


def plural(lang: str, key: str, n: int) -> str:
    """``key_one`` or ``key_other`` with ``{n}`` filled (French counts 0 and 1 as singular)."""
    one = n < 2 if lang == "fr" else n == 1
    return translate(lang, f"{key}_{'one' if one else 'other'}", n=n)


def template_helpers(lang: str) -> dict:
    """What the page templates translate with: ``t(key, **values)``, ``tn(key, n)`` and ``lang``."""
    return {"t": lambda name, /, **values: translate(lang, name, **values),
            "tn": lambda name, n: plural(lang, name, n), "lang": lang}
