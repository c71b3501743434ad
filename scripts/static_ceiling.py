"""The ceiling for ``make bench``: a minimal WSGI app that answers stored JSON bodies.

Served by gunicorn with the same settings as Causerie, it shows how fast the
server, the loopback and the load generator can move responses of the same
size when the application does no work at all. ``GET /<name>`` answers the
bytes of ``$CEILING_DIR/<name>.json`` (read once per worker); the bench
writes there the real response bodies it measured.
"""
import os
import re
from pathlib import Path

_NAME = re.compile(r"^/([A-Za-z0-9_.-]{1,100})$")
_bodies: dict[str, bytes] = {}


def _body(name: str) -> bytes | None:
    if name not in _bodies:
        path = Path(os.environ.get("CEILING_DIR", ".")) / f"{name}.json"
        try:
            _bodies[name] = path.read_bytes()
        except OSError:
            return None
    return _bodies[name]


def app(environ, start_response):
    match = _NAME.match(environ.get("PATH_INFO", ""))
    body = _body(match.group(1)) if match else None
    if body is None:
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
