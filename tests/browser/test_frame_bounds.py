"""A tall comment cannot make the host page tall: code blocks scroll inside a capped height, and
the loader accepts only sane frame heights from the frame's messages."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import FRAME, thread_frame

# About 2 KB of code: 120 short lines.
CODE = "```\n" + "\n".join(f"line {n:03d} = {n} * 2" for n in range(120)) + "\n```"


def article_with_code_block(live_server) -> str:
    writer = live_server.bearer(live_server.register().user["username"])
    key = live_server.unique("code-")
    assert len(CODE) >= 2000
    response = writer.post(f"/articles/{key}/comments",
                           {"body": CODE, "title": key, "url": f"{live_server.url}/demo/{key}"})
    assert response.status_code == 201, response.text
    assert response.json()["comment"]["status"] == "approved"
    return key


def iframe_height(page) -> float:
    return page.locator(FRAME).evaluate("f => f.getBoundingClientRect().height")


def settled_height(page) -> float:
    """The frame's height once it has stopped changing for half a second (the thread has rendered)."""
    height = iframe_height(page)
    for _ in range(40):
        page.wait_for_timeout(500)
        now = iframe_height(page)
        if now == height:
            return now
        height = now
    raise AssertionError("the frame's height never settled")


def test_a_long_code_block_scrolls_inside_a_bounded_height(live_server, page):
    key = article_with_code_block(live_server)
    page.goto(f"/demo/{key}?lang=en")
    frame = page.frame_locator(FRAME)
    code = frame.locator(".c-body pre")
    expect(code).to_have_count(1)
    expect(frame.locator("html")).not_to_have_class(re.compile("no-js"))
    box = code.evaluate("p => ({height: p.getBoundingClientRect().height, scroll: p.scrollHeight,"
                        " client: p.clientHeight, overflow: getComputedStyle(p).overflowY})")
    assert box["height"] <= 600, box
    assert box["scroll"] > box["client"] and box["overflow"] in ("auto", "scroll"), box
    # The host page grows with the thread, not with the code block.
    page.wait_for_function(f"document.querySelector('{FRAME}').getBoundingClientRect().height > 420")
    assert iframe_height(page) < 2000
    assert page.console_errors == []


def test_the_loader_ignores_absurd_frame_heights(live_server, page):
    key = article_with_code_block(live_server)
    page.goto(f"/demo/{key}?lang=en")
    frame = thread_frame(page)
    expect(page.frame_locator(FRAME).locator("html")).not_to_have_class(re.compile("no-js"))
    page.wait_for_function(f"document.querySelector('{FRAME}').getBoundingClientRect().height > 420")
    expect(page.frame_locator(FRAME).locator(".c-body pre")).to_have_count(1)
    settled = settled_height(page)
    for height in ["1e9", "100001", "Infinity", "-5", "0", "NaN", "'500'", "null"]:
        frame.evaluate(f"parent.postMessage({{causerie: 1, type: 'resize', height: {height}}}, '*')")
    # Messages arrive in order: once this count shows, every resize above was handled.
    frame.evaluate(f"parent.postMessage({{causerie: 1, type: 'count', article: '{key}', count: 4242}}, '*')")
    expect(page.locator(f'[data-causerie-count="{key}"]')).to_have_text("4242")
    assert abs(iframe_height(page) - settled) < 1
    # A sane height still applies.
    frame.evaluate("parent.postMessage({causerie: 1, type: 'resize', height: 777}, '*')")
    page.wait_for_function(f"document.querySelector('{FRAME}').getBoundingClientRect().height === 777")
