"""The handlers that turn every failure into the API's JSON error (or an HTML page)."""
from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import CODES, MESSAGES, ApiError
from ..extensions import db


def _wants_html() -> bool:
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]


def error_response(error: ApiError):
    if _wants_html():
        response = current_app.make_response(
            (render_template("error.html", error=error), error.status)
        )
    else:
        body = {"code": error.code, "message": error.message}
        if error.fields:
            body["fields"] = error.fields
        response = jsonify(error=body)
        response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def handle_api_error(error: ApiError):
    db.session.rollback()
    return error_response(error)


def handle_http_exception(error: HTTPException):
    db.session.rollback()
    status = error.code or 500
    api_error = ApiError(status, CODES.get(status, "bad_request"), MESSAGES.get(status))
    if status == 405 and getattr(error, "valid_methods", None):
        api_error.headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        retry = getattr(error, "retry_after", None) or _limiter_retry_after()
        api_error.headers["Retry-After"] = str(retry)
    if status >= 500:
        api_error = ApiError(status, "server_error", "The server could not handle the request.")
    return error_response(api_error)


def _limiter_retry_after() -> int:
    from ..extensions import limiter
    window = getattr(limiter, "current_limit", None)
    if window is not None:
        import time
        return max(1, int(window.reset_at - time.time()))
    return 60


def handle_unexpected(error: Exception):
    db.session.rollback()
    current_app.logger.exception("Unhandled exception on %s %s", request.method, request.path)
    return error_response(
        ApiError(500, "server_error", "Something went wrong on our side; it has been logged.")
    )


def init_app(app):
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


