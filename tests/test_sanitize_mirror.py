"""The sanitizer reads markdown-it's tokens instead of parsing its HTML again: same bytes as the old way.

``sanitize._sanitized(tokens)`` hands bleach's sanitizer the tokens html5lib would have made of
markdown-it's rendering (``html5lib_mirror``); ``sanitize._clean(renderer.render(tokens))`` renders and parses
(html5lib), the way every comment went before. Both run the same allowlist, filters and serializer, so
they must give the same bytes for any source: hostile ones from the shared corpus, and Markdown built
from every construct the parser has enabled, nested and mixed at random (seeded).
"""
import random

import pytest

from app.discussion import sanitize
from app.discussion.html5lib_mirror import Unmirrored, html5lib_tokens
from tests.xss_corpus import MAX_COMMENT_LENGTH, assert_inert_html, load_cases

CASES = load_cases(max_len=MAX_COMMENT_LENGTH)

FRAGMENTS = [
    "*em*", "**strong**", "_em_", "__strong__", "~~struck~~", "`code <b> & \"q\"`", "``a`b``",
    "[link](https://x.example/?a=1&b=\"2\"<3>)", "[titled](https://x.example \"ti&tle <q>\")",
    "<https://auto.example/p?q=<1>>", "https://bare.example/x?y=z&w", "mailto:a@b.example", "a.http://x.example",
    "[rel](/relative)", "[js](javascript:alert(1))", "<javascript:alert(1)>", "> quote", "- item", "* item",
    "1. one", "3) three", "    indented <code> &amp;", "```\nfence & <x>\n```", "~~~\nfence\n~~~", "a  \nb", "a\\\nb",
    "line\nline", "&amp; &copy; &#x3c;script&#x3e; &#13; &#0; &#xD;&#xA;", "<script>alert(1)</script>", "<b>x</b>",
    "<!-- c -->", "\"quotes\" & 'single' < > &", "\x0c", "\x0b", "\t", "\x01\x1f", "é ü 🤖 \u200b \u2028 \ufeff",
    "[a [b](https://b.example)](https://a.example)", "[ref]\n\n[ref]: https://r.example \"T\"", "\\*not em\\*",
    "- [ ] task", "- [x] done", "# not a heading", "* * *", "![img](https://i.example/x.png)", "\r\n", "\r",
    "word " * 12,
]
WRAPPERS = ["> {}", "- {}", "1. {}", "*{}*", "**{}**", "[{}](https://n.example)", "~~{}~~", "  {}", "{}\n",
            "- a\n\n  {}", "1. x\n   {}"]


def _sources(count: int, seed: int = 20261207) -> list[str]:
    rng = random.Random(seed)
    sources = []
    for _ in range(count):
        if rng.random() < 0.5:
            parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 8))]
            sources.append(rng.choice(["", " ", "\n", "\n\n"]).join(parts))
        else:
            source = rng.choice(FRAGMENTS)
            for _ in range(rng.randint(1, 6)):
                source = rng.choice(WRAPPERS).format(source)
            sources.append(source)
    return sources


def _both_ways(source: str) -> tuple[str, str] | None:
    tokens = sanitize._parse(sanitize._UNSAFE_CHARS.sub("\ufffd", source))
    if tokens is None:  # over the render budget: plain paragraphs, parsed by bleach either way
        return None
    rendered_and_parsed = sanitize._clean(sanitize._markdown.renderer.render(tokens, sanitize._markdown.options, {}))
    return sanitize._sanitized(tokens), rendered_and_parsed


def _mirrored(source: str) -> bool:
    try:
        html5lib_tokens(sanitize._parse(source))
    except Unmirrored:
        return False
    return True


def test_every_corpus_payload_gives_the_same_bytes_both_ways():
    compared = 0
    for name, payload in CASES:
        both = _both_ways(payload)
        if both is None:
            continue
        mirrored, parsed = both
        assert mirrored == parsed, name
        assert_inert_html(mirrored)
        compared += 1
    assert compared > 2000


def test_generated_markdown_gives_the_same_bytes_both_ways():
    sources = _sources(6000)
    mirrored_count = 0
    for source in sources:
        mirrored, parsed = _both_ways(source)
        assert mirrored == parsed, repr(source)
        mirrored_count += _mirrored(sanitize._UNSAFE_CHARS.sub("\ufffd", source))
    assert mirrored_count > len(sources) * 0.8  # the fast way is the usual one, not the exception


@pytest.mark.parametrize("source", [
    "plain words", "*a* **b** ~~c~~ `d`", "[t](https://x.example \"T\")", "> q\n\n- a\n- b\n\n3. c",
    "    code", "```\ncode\n```", "a  \nb\nc", "https://bare.example and mailto:x@y.example",
])
def test_enabled_syntax_takes_the_fast_way(source):
    assert _mirrored(source)


@pytest.mark.parametrize("source, html", [
    # html5lib closes the outer link before the inner one: the comment is parsed as before.
    ("[<https://a.example>](https://b.example)",
     '<p><a href="https://b.example" rel="nofollow ugc noopener"></a>'
     '<a href="https://a.example" rel="nofollow ugc noopener">https://a.example</a></p>'),
    # A fence's language becomes a class, which the allowlist drops.
    ("```python\nx = 1 < 2\n```", "<pre><code>x = 1 &lt; 2\n</code></pre>"),
])
def test_what_the_mirror_does_not_know_is_rendered_and_parsed(source, html):
    assert not _mirrored(source)
    assert sanitize.render_stored(source)[0] == html


def test_carriage_returns_from_entities_read_as_html5lib_reads_them():
    # markdown-it turns &#13; into a CR; html5lib's input stream reads CR and CRLF as LF.
    assert sanitize.render_stored("a&#13;b&#13;&#10;c")[0] == "<p>a\nb\nc</p>"
    assert sanitize.render_stored("[x](https://x.example \"a&#13;b\")")[0] == (
        '<p><a href="https://x.example" title="a\nb" rel="nofollow ugc noopener">x</a></p>')


def test_trailing_form_feed_is_kept_and_inner_one_replaced_as_html5lib_walks_text():
    # The walker gives a text node's trailing whitespace (FF included) apart from its text, and bleach
    # replaces control characters only inside the text: position decides, both ways alike.
    assert sanitize.render_stored("a \x0c `c`")[0] == "<p>a \x0c <code>c</code></p>"
    assert sanitize.render_stored("a\x0cb")[0] == "<p>a?b</p>"
