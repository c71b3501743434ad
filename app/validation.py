"""Reading request input strictly: JSON bodies, query parameters and text fields.

Bodies must be exactly ``application/json`` in UTF-8 and are parsed by a
strict parser (no NaN, no trailing data, no BOM, bounded nesting); they are
then validated by a Pydantic model whose unknown fields are dropped, so
nothing a client sends can reach a column it should not.
"""
import json
import re
import unicodedata
from typing import Annotated, TypeVar

from flask import request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from .errors import ApiError, validation_error

M = TypeVar("M", bound=BaseModel)

# Ids are 32-bit integer columns: anything larger names nothing (and must not reach the database).
MAX_ID = 2**31 - 1
# Control characters (category Cc: U+0000-U+001F and U+007F-U+009F) but newline and tab.
_DROPPED_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that make a one-line name look like something else.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_LINE_BREAKS = re.compile("[\u0085\u2028\u2029]")


class Strict(BaseModel):
    """Base of every request body: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", str_strip_whitespace=False)


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _walk_strings(value):
    """Every string (keys included) of a parsed JSON document, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def json_body() -> dict:
    """The request's JSON object, or an ApiError saying what is wrong with it."""
    mimetype = request.mimetype
    if mimetype != "application/json" or "," in (request.content_type or ""):
        raise ApiError(415, "unsupported_media_type",
                       "Request bodies must be sent as Content-Type: application/json.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", "JSON bodies must be encoded in UTF-8.")
    if request.headers.get("Content-Encoding", "identity").lower() != "identity":
        raise ApiError(415, "unsupported_media_type", "Compressed request bodies are not accepted.")
    raw = request.get_data(cache=True)
    if not raw:
        raise ApiError(400, "bad_request", "The request body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            raise ValueError("byte order mark")
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "bad_request", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "The request body must be a JSON object.")
    for string in _walk_strings(data):
        try:
            string.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "bad_request",
                           "The request body contains an unpaired surrogate.") from None
    return data


def parse(model: type[M], data: dict) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {}
        for err in exc.errors(include_url=False, include_input=False):
            name = ".".join(str(part) for part in err["loc"]) or "body"
            fields.setdefault(name, err["msg"])
        raise validation_error(fields) from None


def parse_fields(model: type[M], data: dict) -> tuple[dict, dict[str, str]]:
    """``data`` checked by ``model`` field by field: the fields that passed (None for the others)
    and why the others did not, so that the caller can add its own checks and report all at once."""
    try:
        return model.model_validate(data).model_dump(), {}
    except ValidationError as exc:
        problems = {}
        for err in exc.errors(include_url=False, include_input=False):
            problems.setdefault(".".join(str(part) for part in err["loc"]) or "body", err["msg"])
    passed = {name: None if name in problems else data.get(name, field.default)
              for name, field in model.model_fields.items()}
    return passed, problems


def body(model: type[M]) -> M:
    """Parse and validate the JSON body of the request with ``model``."""
    return parse(model, json_body())


def query_int(name: str, default: int, maximum: int, minimum: int = 0) -> int:
    """An integer query parameter: clamped to ``maximum``; non-integers and values below ``minimum`` are 422."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]{1,100}", raw):
        raise validation_error({name: f"must be an integer between {minimum} and {maximum}"})
    value = int(raw)  # at most 100 digits: cheap, and anything huge is clamped below
    if value < minimum:
        raise validation_error({name: f"must be at least {minimum}"})
    return min(value, maximum)


def query_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = request.args.get(name, default) or default
    if raw not in choices:
        raise validation_error({name: "must be one of " + ", ".join(choices)})
    return raw


# -- text -----------------------------------------------------------------

def clean_multiline(text: str) -> str:
    """NFC text with CRLF folded, control characters other than newline and tab removed.

    NUL is refused rather than removed: it never belongs in a comment.
    """
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _DROPPED_CONTROLS.sub("", text)
    return unicodedata.normalize("NFC", text)


def clean_line(text: str) -> str:
    """One-line text (names, titles): NFC, trimmed; line breaks, controls and invisible characters refused."""
    text = unicodedata.normalize("NFC", text).strip()
    if any(unicodedata.category(ch) == "Cc" for ch in text) or _LINE_BREAKS.search(text):
        raise ValueError("must be a single line without control characters")
    if _INVISIBLE.search(text):
        raise ValueError("must not contain invisible or direction-changing characters")
    return text


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Line = Annotated[str, AfterValidator(clean_line)]
