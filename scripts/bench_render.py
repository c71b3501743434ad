"""Time app.sanitize.render on hostile inputs (bad-requests.md S14) and on a realistic comment.

Run from the repo root: .venv/bin/python scripts/bench_render.py
Every pathological pattern is repeated up to MAX_COMMENT_LENGTH (10,000 code points). A second table
times the worst inputs that still render as Markdown: the largest repeat that stays within the budget.
"best" is the number to compare; "max" also catches a full garbage collection of the whole process
(~40 ms here, proportional to the heap, not to the input) or other processes competing for the CPU;
"cpu" is the best thread CPU time, which a busy machine does not inflate.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.discussion import sanitize

MAX_LENGTH = 10_000
RUNS = 3

REALISTIC = """Great write-up, thanks! I tried the **second approach** on our staging box and it cut the
build from 14 to *about 6 minutes*. Two things that bit me:

1. the cache key must include the lockfile hash, otherwise `npm ci` reuses stale modules;
2. ~~parallel jobs~~ only help once the runners have 4+ cores.

> Measure before you optimise.

The docs are at https://example.com/docs/build-cache and the [issue tracker](https://example.org/issues/42)
has the full discussion. Happy to share our config:

```
cache: {key: lockfile}
```
"""


def fill(unit: str, suffix: str = "", length: int = MAX_LENGTH) -> str:
    """`unit` repeated, then `suffix`, at most `length` code points."""
    return unit * ((length - len(suffix)) // len(unit)) + suffix


PATHOLOGICAL = {
    "[a](": fill("[a]("),
    "[ x N, x, ] x N": "[" * 4999 + "x" + "]" * 5000,
    "[": fill("["),
    "![](": fill("![]("),
    "[a](http://b)": fill("[a](http://b)"),
    "<a": fill("<a"),
    "<b>": fill("<b>"),
    "<": fill("<"),
    "<!--": fill("<!--"),
    "<http://": fill("<http://"),
    "- ": fill("- "),
    "- - - - a\\n": fill("- - - - a\n"),
    "* a\\n": fill("* a\n"),
    "> (one line)": fill(">"),
    ">a\\n\\n": fill(">a\n\n"),
    "*": fill("*"),
    "*a": fill("*a"),
    "***a": fill("***a"),
    "_": fill("_"),
    "_a": fill("_a"),
    "~~a": fill("~~a"),
    "`": fill("`"),
    "`a` ": fill("`a` "),
    "```\\n": fill("```\n"),
    "&": fill("&"),
    "&lt;": fill("&lt;"),
    "\\": fill("\\"),
    "\\n": fill("\n"),
    "a\\n": fill("a\n"),
    "a  \\n (hard breaks)": fill("a  \n"),
    "https://a.example/ ": fill("https://a.example/ "),
    "http://": fill("http://"),
    "a:// (linkify scheme scan)": fill("a://"),
    "a@b.example ": fill("a@b.example "),
    "(2 spaces) x N, - x": fill("  ", "- x"),
    "|a": fill("|a"),
    "19 quotes + lazy lines": (">" * 19 + " a\n" + "b\n" * 5000)[:2000],
    "[a]: http://b\\n (refs)": fill("[a]: http://b\n"),
    "zero-width space": fill("\u200b"),
    "U+1F4A9": fill("\U0001f4a9"),
}

# Units whose largest under-budget repeat is the slowest Markdown the budget lets through.
AT_BUDGET = [
    "*a", "a *b*", "a **b**", "~~a", "`a` ", "[", "[a](", "a [b](c)", "[a](http://b) ", "https://a.example/ ",
    "<a", "_a", "a-", "a\n", "a  \n", "a\n\n", ">a\n\n", "- a\n", "- - - - a\n", "1. a\n\n",
]


def timings(source: str) -> tuple[float, float, float]:
    """(best, max) wall time and best CPU time of RUNS renders, in milliseconds.

    CPU time tells a busy machine (other processes) apart from a slow render.
    """
    wall, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.thread_time()
        sanitize.render(source)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return min(wall), max(wall), min(cpu)


def largest_markdown_repeat(unit: str) -> int:
    """Largest n such that unit * n is still rendered as Markdown (not the plain-text fallback)."""
    low, high = 0, MAX_LENGTH // len(unit)
    while low < high:
        middle = (low + high + 1) // 2
        if sanitize._parse(unit * middle) is not None:
            low = middle
        else:
            high = middle - 1
    return low


def print_row(name: str, source: str) -> float:
    best, worst, cpu = timings(source)
    mode = "markdown" if sanitize._parse(source) is not None else "plain"
    print(f"{name:28} {len(source):>6} {mode:>9} {best:>9.1f} {worst:>9.1f} {cpu:>8.1f}")
    return worst


def main() -> None:
    sanitize.render(REALISTIC)  # first call compiles linkify's regexes; not what we measure
    header = f"{'input':28} {'chars':>6} {'rendered':>9} {'best ms':>9} {'max ms':>9} {'cpu ms':>8}"
    print(header)
    print("-" * len(header))
    slowest = print_row("realistic comment", REALISTIC)
    for name, source in PATHOLOGICAL.items():
        slowest = max(slowest, print_row(name, source))
    print()
    print("worst Markdown within budget (largest repeat before the plain-text fallback)")
    print(header)
    print("-" * len(header))
    for unit in AT_BUDGET:
        repeat = largest_markdown_repeat(unit)
        name = f"{unit!r} x {repeat}"
        slowest = max(slowest, print_row(name, unit * repeat))
    print(f"\nslowest single render (wall): {slowest:.1f} ms")


if __name__ == "__main__":
    main()
