"""Strict JSON bodies and query parameters: malformed is 400, invalid fields 422 naming each one."""
import json
import re
from typing import Annotated, TypeVar

from flask import request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ..errors import ApiError, bad_request, validation_error
from ..text import clean_line

M = TypeVar("M", bound=BaseModel)


# Ids are 32-bit integer columns: anything larger names nothing (and must not reach the database).
MAX_ID = 2**31 - 1
# A positive ASCII integer of at most 10 digits (Unicode digits never match); then checked against MAX_ID.
ID_PATTERN = r"[1-9][0-9]{0,9}"


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
        raise bad_request("The request body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            raise ValueError("byte order mark")
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    for string in _walk_strings(data):
        try:
            string.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request("The request body contains an unpaired surrogate.") from None
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


def query_id(name: str) -> int | None:
    """An optional id query parameter; anything but a positive integer id (an empty value too) is 422."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not re.fullmatch(ID_PATTERN, raw) or int(raw) > MAX_ID:
        raise validation_error({name: "must be a positive integer id"})
    return int(raw)


def query_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = request.args.get(name, default) or default
    if raw not in choices:
        raise validation_error({name: "must be one of " + ", ".join(choices)})
    return raw


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


Line = Annotated[str, AfterValidator(clean_line)]
