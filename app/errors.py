"""ApiError, raised by operations and views alike, and its helpers for the API's error codes."""


# HTTP status -> the API's error code, for errors raised by Flask/Werkzeug.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


MESSAGES = {
    400: "The request is malformed.",
    401: "You need to log in first.",
    403: "You are not allowed to do that.",
    404: "Not found.",
    405: "This method is not allowed here.",
    409: "That conflicts with the current state.",
    413: "The request body is too large.",
    415: "Request bodies must be sent as application/json.",
    422: "Some fields are not valid.",
    429: "Too many requests; slow down and try again later.",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 fields: dict | None = None, headers: dict | None = None):
        super().__init__(message or MESSAGES.get(status, "Error."))
        self.status = status
        self.code = code or CODES.get(status, "bad_request")
        self.message = message or MESSAGES.get(status, "Error.")
        self.fields = fields
        self.headers = headers or {}


def validation_error(fields: dict[str, str], message: str | None = None) -> ApiError:
    return ApiError(422, "validation_error", message or MESSAGES[422], fields=fields)


def not_found(what: str = "Not found.") -> ApiError:
    return ApiError(404, "not_found", what)


def bad_request(message: str | None = None) -> ApiError:
    return ApiError(400, "bad_request", message)


def unauthorized(message: str | None = None) -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(message: str | None = None) -> ApiError:
    return ApiError(403, "forbidden", message)


def conflict(message: str | None = None) -> ApiError:
    return ApiError(409, "conflict", message)


