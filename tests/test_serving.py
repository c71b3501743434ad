"""``make serve``'s gunicorn.conf.py: the production listeners and the JSON access log."""
import json
import os
import signal
import subprocess
import time

import pytest
import requests

from .servers import (
    ROOT,
    _bin,
    flask_cli,
    free_port,
    fresh_database,  # noqa: F401 - fixture
    server_environment,
)

pytestmark = pytest.mark.slow


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_the_read_lane_serves_beside_the_main_listener_and_access_lines_are_json(fresh_database, tmp_path):
    main_port, read_port = free_port(), free_port()
    env = {**server_environment(fresh_database), "WEB_CONCURRENCY": "1",
           "CAUSERIE_BIND": f"127.0.0.1:{main_port}", "CAUSERIE_READ_BIND": f"127.0.0.1:{read_port}"}
    flask_cli(env, "db", "upgrade")
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([_bin("gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "app:create_app()"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (_healthy(main_port) and _healthy(read_port)):
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        answer = requests.get(f"http://127.0.0.1:{read_port}/api/v1/counts?keys=none-yet", timeout=5)
        assert answer.status_code == 200 and answer.json() == {"counts": {"none-yet": 0}}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    access = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(entry.get("path") == "/api/v1/counts" and entry.get("status") == 200 for entry in access), access
