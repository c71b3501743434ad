"""The dashboard's Webhooks section in a real browser: an administrator adds an endpoint, sees its
secret once, and sees a delivery the worker made to a real receiver that checks the signature."""
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa
from playwright.sync_api import expect
from standardwebhooks import Webhook as Verifier

from tests.browser.conftest import HOST_ORIGIN, ROOT
from tests.servers import database_engine

PUBLIC_URL = "https://93.184.215.14/causerie-hook"  # a public literal: accepted without DNS


def _receiver(calls: list, secret_box: dict):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = Verifier(secret_box["secret"]).verify(raw, dict(self.headers.items()))
            calls.append(body)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _drain(live_server):
    """The worker, once through everything due; allowed to call 127.0.0.1 (the test's receiver)."""
    env = {**live_server.env, "WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_TIMEOUT": "5"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "worker", "--drain"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def _open_settings(page) -> None:
    """The settings tab, once the dashboard's modules run (its counts are in): a click before that
    follows the tab's plain link and reloads the page under the test's feet."""
    expect(page.locator('[data-count="pending"]')).to_have_text(re.compile(r"\d"))
    page.click("#tab-settings")


def test_admin_adds_a_webhook_and_sees_its_deliveries(live_server, page):
    admin = live_server.create_user(role="admin")
    reader = live_server.bearer(live_server.register().user["username"])
    _drain(live_server)  # what earlier tests left due goes first, to no endpoint
    page.goto("/login?next=/moderation")
    page.fill("#f-login", admin.username)
    page.fill("#f-password", admin.password)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/moderation"))
    _open_settings(page)
    section = page.locator("#webhooks")
    expect(section.locator("h2")).to_have_text("Webhooks")

    page.fill("#wh-url", "http://127.0.0.1:9/hook")  # loopback: refused, said under the field
    page.click("#webhook-add")
    expect(page.locator("#wh-url-error")).to_contain_text("loopback")

    page.fill("#wh-url", PUBLIC_URL)
    page.fill("#wh-description", "Newsroom")
    page.click("#webhook-add")
    secret = page.locator("#webhook-secret-value")
    expect(secret).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]{44}$"))
    expect(page.locator("#webhook-secret")).to_contain_text("will not be shown again")
    entry = page.locator("#webhook-list li", has_text=PUBLIC_URL)
    expect(entry.locator(".dash-webhook-state")).to_have_text("Enabled")
    secret_box = {"secret": secret.inner_text()}

    page.reload()
    _open_settings(page)
    expect(entry.locator(".dash-webhook-state")).to_have_text("Enabled")
    expect(page.locator("#webhook-secret")).to_be_hidden()
    assert secret_box["secret"] not in page.content()

    # The endpoint moves to the receiver (an intranet address the worker is allowed to call here).
    calls: list = []
    server = _receiver(calls, secret_box)
    try:
        with database_engine(live_server.database_url) as engine:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE webhooks SET url = :url WHERE url = :old"),
                             {"url": f"http://127.0.0.1:{server.server_address[1]}/hook", "old": PUBLIC_URL})
        key = live_server.unique("hook-")
        response = reader.post(f"/articles/{key}/comments", {"body": "Announce me", "title": "Hooked",
                                                              "url": f"{HOST_ORIGIN}/{key}"})
        assert response.status_code == 201, response.text
        _drain(live_server)
    finally:
        server.shutdown()
        server.server_close()
    assert [(c["type"], c["data"]["article"]["key"]) for c in calls] == [("comment.created", key)]

    page.reload()
    _open_settings(page)
    page.wait_for_load_state("networkidle")  # the list is loaded: a click now is on the list that stays
    entry = page.locator("#webhook-list li", has_text="/hook")
    expect(entry).to_be_visible()
    entry.locator('[data-webhook-action="deliveries"]').click()
    row = entry.locator("tbody tr").first
    expect(row).to_contain_text("comment.created")
    expect(row.locator(".dash-webhook-code")).to_have_text("204")

    entry.locator('[data-webhook-action="toggle"]').click()
    expect(entry.locator(".dash-webhook-state")).to_have_text("Disabled")
    # The one failed request is the refused loopback URL the page showed.
    assert [e for e in page.console_errors if "422" not in e] == []
