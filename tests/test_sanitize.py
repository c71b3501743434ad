"""app.sanitize: Markdown renders, hostile input comes out inert, links are counted, blank bodies detected.

No Flask app needed. Speed is measured by scripts/bench_render.py, not asserted here.
"""

import pytest

from app.discussion import sanitize
from app.discussion.sanitize import (
    RenderError,
    count_links,
    is_blank,
    render,
    render_with_links,
)
from tests.xss_corpus import (
    MAX_COMMENT_LENGTH,
    assert_inert_html,
    declared_total,
    load_cases,
)

# --- the shared corpus ---------------------------------------------------------------------------

CASES = load_cases(max_len=MAX_COMMENT_LENGTH)


def test_corpus_loads_every_payload():
    assert len(CASES) == declared_total() == 2094
    assert all(0 < len(payload) <= MAX_COMMENT_LENGTH for _, payload in CASES)


@pytest.mark.parametrize(("line", "payload"), CASES, ids=[f"line{line}" for line, _ in CASES])
def test_corpus_payload_renders_inert(line, payload):
    html, links = render_with_links(payload)
    assert_inert_html(html)
    assert links == count_links(payload)
    assert html.count("<a ") in (0, links)  # 0 when shown as plain text
    html.encode("utf-8")  # storable: no lone surrogates


@pytest.mark.parametrize(
    "html",
    [
        '<img src="x" onerror="alert(1)">',
        '<p onclick="alert(1)">x</p>',
        '<p style="color:red">x</p>',
        '<a href="javascript:alert(1)" rel="nofollow ugc noopener">x</a>',
        '<a href=" java&#x09;script:alert(1)" rel="nofollow ugc noopener">x</a>',
        '<a href="/relative" rel="nofollow ugc noopener">x</a>',
        '<a href="https://example.com">no rel</a>',
        "<a>no href</a>",
        '<ol start="1 onclick">',
        "<!-- comment -->",
    ],
)
def test_oracle_rejects_unsafe_html(html):
    with pytest.raises(AssertionError):
        assert_inert_html(html)


# --- Markdown features ---------------------------------------------------------------------------


def test_raw_html_is_shown_as_text():
    assert render("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"
    assert render("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    assert "&lt;!-- hidden --&gt;" in render("<!-- hidden -->")
    assert render("<div>\n\n*x*\n\n</div>").count("&lt;div&gt;") == 1


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("*em* and _em_", "<p><em>em</em> and <em>em</em></p>\n"),
        ("**strong** and __strong__", "<p><strong>strong</strong> and <strong>strong</strong></p>\n"),
        ("~~gone~~", "<p><s>gone</s></p>\n"),
        ("use `a < b`", "<p>use <code>a &lt; b</code></p>\n"),
        ("```python\nif a < b:\n    pass\n```", "<pre><code>if a &lt; b:\n    pass\n</code></pre>\n"),
        ("    indented code", "<pre><code>indented code\n</code></pre>\n"),
        ("> quoted\n> text", "<blockquote>\n<p>quoted\ntext</p>\n</blockquote>\n"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n'),
        ("line  \nbreak", "<p>line<br>\nbreak</p>\n"),
        ("a & b", "<p>a &amp; b</p>\n"),
        ('say "hi"', "<p>say &quot;hi&quot;</p>\n"),
    ],
)
def test_markdown_features_render(source, expected):
    assert render(source) == expected


def test_links_render_with_forced_rel():
    html = render('[docs](https://example.com/a?b=1&c=2 "The docs")')
    assert html == (
        '<p><a href="https://example.com/a?b=1&amp;c=2" title="The docs" rel="nofollow ugc noopener">'
        "docs</a></p>\n"
    )
    assert 'href="mailto:me@example.com"' in render("[mail](mailto:me@example.com)")
    assert 'href="http://example.org"' in render("<http://example.org>")


def test_bare_urls_are_linkified():
    html = render("see https://example.com/page and http://example.org.")
    assert '<a href="https://example.com/page" rel="nofollow ugc noopener">https://example.com/page</a>' in html
    assert '<a href="http://example.org" rel="nofollow ugc noopener">http://example.org</a>.' in html
    assert_inert_html(html)


def test_only_urls_with_a_scheme_are_linkified():
    for text in ("setup.py", "www.example.com", "me@example.com", "ftp://example.com/file", "//evil.example"):
        assert "<a" not in render(text), text


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](%20javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "[x](//evil.example/)",
        "[x](/relative/path)",
        "[x](#anchor)",
        "[x](file:///etc/passwd)",
        "[x](ftp://example.com/)",
    ],
)
def test_unsafe_and_relative_links_are_dropped(source):
    html = render(source)
    assert "<a" not in html
    assert "x" in html or "javascript" in html  # the text stays readable
    assert count_links(source) == 0


def test_dropped_link_keeps_its_text():
    assert render("[read this](/relative)") == "<p>read this</p>\n"


def test_features_outside_the_allowlist_stay_as_typed():
    assert render("# Title") == "<p># Title</p>\n"
    assert render("Title\n---") == "<p>Title\n---</p>\n"
    html = render("![a cat](https://example.com/cat.png)")
    assert "<img" not in html and "a cat" in html
    assert_inert_html(html)


def test_nested_quotes_and_lists_stay_shallow():
    html = render(">" * 5000 + " deep")
    assert html.count("<blockquote>") <= sanitize.MAX_NESTING
    html = render("- " * 4000 + "deep")
    assert html.count("<ul>") <= sanitize.MAX_NESTING
    assert_inert_html(html)


def test_unencodable_and_reserved_characters_are_replaced():
    html = render("a\ud800b\x00c")
    assert html == "<p>a\ufffdb\ufffdc</p>\n"
    html.encode("utf-8")
    # Our internal placeholders cannot be smuggled in to become markup or entities.
    html = render("\U0010fff1script\U0010fff2 \U0010fff0")
    assert "&lt;" not in html and "&gt;" not in html and "&amp;" not in html
    assert "\ufffd" in html


# --- the render budget ---------------------------------------------------------------------------


def test_over_budget_source_renders_as_plain_text():
    source = "*a* " * 2000 + "\n\nsecond https://example.com"
    html = render(source)
    assert "<em>" not in html and "<a" not in html
    assert html.startswith("<p>*a* *a*") and html.count("<p>") == 2
    assert count_links(source) == 1  # links shown as text still count for moderation
    assert render_with_links(source) == (html, 1)


def test_plain_text_fallback_escapes_and_caps_paragraphs():
    source = "<b>x</b> & y\n\n" * 2000
    html = render(source)
    assert html.count("<p>") == sanitize.MAX_PLAIN_PARAGRAPHS
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html
    assert_inert_html(html)


def test_many_lines_fall_back_to_plain_text():
    source = "- a\n" * (sanitize.MAX_LINES + 1)
    assert "<li>" not in render(source)
    assert "<li>" in render("- a\n" * 10)


S14_PATTERNS = {
    "[a](": "[a](",
    "![](": "![](",
    "[": "[",
    "<a": "<a",
    "<b>": "<b>",
    "<div>": "<div>",
    "<": "<",
    "<!--": "<!--",
    "- ": "- ",
    "- - a\\n": "- - a\n",
    ">": ">",
    ">a\\n\\n": ">a\n\n",
    "*": "*",
    "*a": "*a",
    "_": "_",
    "_a": "_a",
    "~~a": "~~a",
    "`": "`",
    "`a` ": "`a` ",
    "```\\n": "```\n",
    "&": "&",
    "&lt;": "&lt;",
    "\\": "\\",
    "\\n": "\n",
    "a  \\n": "a  \n",
    "https://a.example/ ": "https://a.example/ ",
    "<http://a.example> ": "<http://a.example> ",
    "[a](http://b) ": "[a](http://b) ",
    "|a": "|a",
    "\\u200b": "\u200b",
}


@pytest.mark.parametrize("unit", S14_PATTERNS.values(), ids=S14_PATTERNS.keys())
def test_pathological_patterns_render_at_max_length(unit):
    source = (unit * (MAX_COMMENT_LENGTH // len(unit) + 1))[:MAX_COMMENT_LENGTH]
    assert_inert_html(render(source))
    count_links(source)


def test_nested_quotes_over_lazy_lines_render():
    # Each quote level reads every following line: 20 levels over 1,000 lines is the costly shape.
    source = ">" * 19 + " a\n" + "b\n" * (sanitize.MAX_LINES - 1)
    html = render(source)
    assert_inert_html(html)
    assert "b" in html


def test_nested_brackets_render_at_max_length():
    half = MAX_COMMENT_LENGTH // 2
    assert_inert_html(render("[" * (half - 1) + "x" + "]" * half))


def test_recursion_error_becomes_render_error(monkeypatch):
    def overflow(tokens):
        raise RecursionError("maximum recursion depth exceeded")

    # The serializer writes every comment's HTML, whichever way its tokens came.
    monkeypatch.setattr(sanitize._cleaner.serializer, "render", overflow)
    with pytest.raises(RenderError) as caught:
        render("text")
    assert isinstance(caught.value, ValueError)


# --- count_links ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("no links here", 0),
        ("[a](https://example.com)", 1),
        ("<https://example.com>", 1),
        ("bare https://example.com/x", 1),
        ("[a](https://a.example) and https://b.example and <mailto:c@example.com>", 3),
        ("[ref][r] and [r]\n\n[r]: https://example.com", 2),
        ("`https://example.com` in code", 0),
        ("```\nhttps://example.com\n```", 0),
        ("[a](/relative) [b](javascript:x)", 0),
        ("[https://example.com](https://example.com)", 1),
        ("www.example.com me@example.com", 0),
    ],
)
def test_count_links(source, expected):
    assert count_links(source) == expected
    html, links = render_with_links(source)
    assert links == expected
    assert html == render(source)


# --- is_blank ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ["", "   ", "\n\n\n", "\u200b\u200b", "&nbsp;", "&#8203;", "\u3164", "\ufeff", "> ", "- ", "```\n```", "[](https://a.example)"],
)
def test_blank_sources_render_blank(source):
    assert is_blank(render(source))


@pytest.mark.parametrize("html", ["", "<p></p>", "<p>&nbsp;</p>", "<p>\u200b\u200d</p>", "<p> <br> </p>", "<ul><li></li></ul>"])
def test_is_blank_on_html(html):
    assert is_blank(html)


@pytest.mark.parametrize("source", ["x", "0", ".", "<p></p>", "<script></script>", "&lt;", "\U0001f4a9", "**\u00e9**"])
def test_visible_sources_are_not_blank(source):
    # Raw HTML is shown as text, so "<p></p>" is a (strange) visible comment, not an empty one.
    assert not is_blank(render(source))
