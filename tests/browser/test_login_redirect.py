"""Logging in through /login?next=... in a real browser always ends on this site."""
from urllib.parse import quote, urlsplit

import pytest

from tests.browser.conftest import PASSWORD

# Values of `next` that once reached another site: the server let them pass and the page's own
# re-parsing (new URL(v).pathname) turned them into "//evil.example".
HOSTILE_NEXT = [
    "/.//evil.example", "/..//evil.example", "/%2e%2e//evil.example", "/\\evil.example",
    "/%5cevil.example", "%2f%2fevil.example", "/./%2fevil.example", "/\t/evil.example",
    "/%09/evil.example", "//evil.example", "https://evil.example", "javascript:alert(1)",
    "/a/../..//evil.example", "/%252e%252e//evil.example",
]


@pytest.fixture(scope="module")
def reader(live_server):
    return live_server.register().user["username"]


def log_in_through(new_context, live_server, username: str, next_value: str) -> str:
    """Log in on /login?next=<next_value> with a fresh browser; the URL the browser ends on."""
    context = new_context()
    # Nothing outside the live server is reachable: a request elsewhere fails fast instead of hanging.
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    page = context.new_page()
    page.goto(f"/login?next={quote(next_value, safe='')}")
    page.fill("#f-login", username)
    page.fill("#f-password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(lambda url: not url.startswith(live_server.url + "/login"))
    page.wait_for_load_state()
    return page.url


@pytest.mark.parametrize("next_value", HOSTILE_NEXT)
def test_login_never_leaves_the_site(new_context, live_server, reader, next_value):
    final = urlsplit(log_in_through(new_context, live_server, reader, next_value))
    server = urlsplit(live_server.url)
    assert (final.scheme, final.netloc) == (server.scheme, server.netloc), final.geturl()
    assert not final.path.startswith("//")


def test_login_goes_to_a_same_site_next(new_context, live_server, reader):
    final = urlsplit(log_in_through(new_context, live_server, reader, "/demo/./x/../a1?lang=en"))
    assert f"{final.scheme}://{final.netloc}" == live_server.url
    assert (final.path, final.query) == ("/demo/a1", "lang=en")
