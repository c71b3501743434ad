"""Production settings for gunicorn: ``make serve`` (``gunicorn -c gunicorn.conf.py "app:create_app()"``).

Every value can be overridden from the environment; the defaults suit one
machine behind a reverse proxy (nginx, Caddy, a load balancer) that
terminates TLS and buffers slow clients.
"""
import json
import multiprocessing
import os
from datetime import datetime, timezone

from gunicorn import glogging


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


# Loopback by default: the reverse proxy in front talks to us; set
# CAUSERIE_BIND=0.0.0.0:8000 (or a unix:/path socket) to expose it.
bind = [os.environ.get("CAUSERIE_BIND", "127.0.0.1:8000")]

# An optional second listener, the read lane: CAUSERIE_READ_BIND=127.0.0.1:8001.
# Sync workers take one connection from each ready listener in turn, so when
# the proxy sends GET requests there, a reader waits for at most the request a
# worker is busy with, however many posts a flood has queued on the main
# listener (README, "Production"). Both listeners serve every route.
if os.environ.get("CAUSERIE_READ_BIND", "").strip():
    bind.append(os.environ["CAUSERIE_READ_BIND"].strip())

# Sync workers: every request is short and database-bound, and the proxy
# buffers slow clients, so 2 x cores + 1 keeps the CPU busy while some
# workers wait on the database. WEB_CONCURRENCY is the common override.
# (make bench measured gthread x 4 no faster on reads and half as fast on
# posts: threads of one worker contend for the GIL and SQLite's write lock.)
workers = _int_env("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = _int_env("GUNICORN_THREADS", 1)

# A comment request takes milliseconds; 30 s means a worker is stuck
# (a lock, a runaway query), so kill and replace it rather than queue behind it.
timeout = _int_env("GUNICORN_TIMEOUT", 30)
# On reload/stop, give in-flight writes time to commit before the kill.
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 20)
# Only gthread/async workers keep connections alive (sync workers close
# after each response); 5 s lets the proxy reuse a connection between
# requests without holding a thread for an idle client for long.
keepalive = _int_env("GUNICORN_KEEPALIVE", 5)

# Recycle each worker now and then so a slow leak can never grow unbounded;
# the jitter keeps workers from restarting together. A restart costs about a
# second of CPU (importing the app) and a cold page cache, so not too often:
# a worker serving 600 requests/s lives about three minutes (2,000 meant a
# restart every few seconds, and cost reads a third of their throughput).
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _int_env("GUNICORN_MAX_REQUESTS_JITTER", 10_000)

# Refuse oversized request lines/headers before Flask sees them (Flask's
# MAX_CONTENT_LENGTH bounds the body).
limit_request_line = 8190
limit_request_fields = 100

# The proxy sets X-Forwarded-*; only trust it from loopback by default.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to the process's stdout/stderr, collected by systemd or the
# container runtime; access lines are JSON so a log pipeline parses them as-is.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # "-": stdout; empty: off
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")  # "-": stderr
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# One JSON object a line. The placeholders are NOT quoted: JsonLogAtoms below
# renders each value as a JSON literal (a string quoted and escaped, a number
# bare), because gunicorn's default escaping leaves backslashes and control
# characters from a hostile User-Agent or path that would break the JSON.
# (h remote address, m method, U path, q query, s status, B bytes sent,
# M duration in ms, f referer, a user agent, {name}i a request header.)
access_log_format = (
    '{"time": %(t)s, "remote": %(h)s, "method": %(m)s, "path": %(U)s, "query": %(q)s, '
    '"status": %(s)s, "bytes": %(B)s, "duration_ms": %(M)s, "referer": %(f)s, '
    '"user_agent": %(a)s, "forwarded_for": %({x-forwarded-for}i)s, "request_id": %({x-request-id}i)s}'
)


class JsonLogAtoms(dict):
    """gunicorn's log atoms, each rendered as a JSON literal; a missing one is null."""

    def __init__(self, atoms):
        super().__init__((key.lower() if key.startswith("{") else key, value)
                         for key, value in atoms.items())

    def __getitem__(self, key):
        if key.startswith("{"):
            key = key.lower()
        value = self.get(key)
        if key == "s" and isinstance(value, str) and value.isdigit():
            value = int(value)
        if key == "t" and isinstance(value, str):
            value = value.strip("[]")
        if value == "-":
            value = None
        return json.dumps(value, ensure_ascii=False, default=str)


class JsonLogger(glogging.Logger):
    atoms_wrapper_class = JsonLogAtoms

    def now(self):
        # ISO 8601 UTC with milliseconds, like every other time Causerie prints.
        now = datetime.now(timezone.utc)
        return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


logger_class = JsonLogger

# gunicorn 27's control socket lives at one fixed path per user, so two
# servers on one machine (the app and the bench's ceiling, or two app
# instances) would fight over it; turn it on with GUNICORN_CONTROL_SOCKET.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# Load the application in each worker (not the master): every worker opens
# its own database connections, and a code reload needs no master restart.
preload_app = False


def on_starting(server):
    # The app (loaded in each worker) warns at start-up when several workers would each keep
    # their own rate-limit counters (RATELIMIT_STORAGE_URI=memory://): it needs the count.
    os.environ["CAUSERIE_GUNICORN_WORKERS"] = str(server.cfg.workers)
