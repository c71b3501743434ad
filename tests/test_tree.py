"""Reply trees (app/discussion/tree.py), as pure units: linking, tombstones, the replies-per-level limit,
and a chain of 10,000 replies built and laid out in linear time without recursion."""
import sys
from datetime import datetime, timedelta

from app.discussion.tree import Node, link, select, shown_children

START = datetime(2026, 1, 1)


def node(id, parent=None, depth=0, minute=None, visible=True) -> Node:
    return Node(id=id, parent_id=parent, depth=depth,
                created_at=START + timedelta(minutes=id if minute is None else minute), visible=visible)


def chain(length: int) -> list[Node]:
    """Comment 1, its reply 2, that one's reply 3 ... ``length`` deep."""
    return [node(n, parent=n - 1 if n > 1 else None, depth=n - 1) for n in range(1, length + 1)]


def test_link_attaches_replies_oldest_first_with_ties_by_id():
    nodes = [node(1), node(5, 1, 1, minute=30), node(3, 1, 1, minute=20), node(4, 1, 1, minute=20),
             node(2, 1, 1, minute=10), node(6, 3, 2)]
    by_id = link(nodes)
    assert [child.id for child in by_id[1].children] == [2, 3, 4, 5]
    assert [child.id for child in by_id[3].children] == [6]
    assert all(n.shown for n in nodes)


def test_a_reply_whose_parent_is_not_in_the_rows_is_left_alone():
    by_id = link([node(7, parent=99, depth=3)])
    assert by_id[7].shown and by_id[7].children == []


def test_a_hidden_parent_with_a_visible_reply_stays_as_a_tombstone():
    nodes = [node(1, visible=False), node(2, 1, 1, visible=False), node(3, 2, 2)]
    link(nodes)
    assert [n.shown for n in nodes] == [True, True, True]
    layout = select([nodes[0]], replies=3)
    assert layout == {1: ([2], 1, 0), 2: ([3], 1, 0), 3: ([], 0, 0)}


def test_hidden_comments_without_visible_replies_are_not_shown_nor_counted():
    nodes = [node(1), node(2, 1, 1, visible=False), node(3, 2, 2, visible=False), node(4, 1, 1),
             node(5, 1, 1, visible=False)]
    by_id = link(nodes)
    assert [n.id for n in nodes if not n.shown] == [2, 3, 5]
    assert [child.id for child in shown_children(by_id[1])] == [4]
    assert select([by_id[1]], replies=5) == {1: ([4], 1, 0), 4: ([], 0, 0)}


def test_a_hidden_top_level_comment_with_no_visible_reply_is_not_shown():
    nodes = [node(1, visible=False), node(2, 1, 1, visible=False)]
    link(nodes)
    assert not nodes[0].shown and not nodes[1].shown


def test_only_the_first_replies_are_nested_at_every_level():
    top = node(1)
    level1 = [node(n, 1, 1) for n in range(2, 7)]  # 5 replies to 1
    level2 = [node(n, 2, 2) for n in range(10, 14)]  # 4 replies to 2
    level3 = [node(n, 10, 3) for n in range(20, 23)]  # 3 replies to 10
    by_id = link([top, *level1, *level2, *level3])
    layout = select([by_id[1]], replies=2)
    assert layout[1] == ([2, 3], 5, 3)
    assert layout[2] == ([10, 11], 4, 2)
    assert layout[10] == ([20, 21], 3, 1)
    assert layout[3] == ([], 0, 0)
    assert set(layout) == {1, 2, 3, 10, 11, 20, 21}  # replies beyond the limit are not laid out


def test_no_nested_replies_still_counts_them():
    by_id = link([node(1), node(2, 1, 1), node(3, 1, 1)])
    assert select([by_id[1]], replies=0) == {1: ([], 2, 2)}


def test_several_top_level_comments_are_laid_out_independently():
    by_id = link([node(1), node(2), node(3, 1, 1), node(4, 2, 1), node(5, 2, 1)])
    assert select([by_id[1], by_id[2]], replies=1) == {
        1: ([3], 1, 0), 3: ([], 0, 0), 2: ([4], 2, 1), 4: ([], 0, 0)}


def test_a_chain_of_ten_thousand_needs_no_recursion():
    limit = sys.getrecursionlimit()
    assert limit < 10_000  # the chain is deeper than any recursive walk could go
    nodes = chain(10_000)
    nodes[0].visible = False  # a tombstone at the top, kept for the reply 9,999 levels down
    by_id = link(list(reversed(nodes)))
    layout = select([by_id[1]], replies=1)
    assert len(layout) == 10_000
    assert layout[1] == ([2], 1, 0) and layout[10_000] == ([], 0, 0)
    assert by_id[1].shown


def _steps_to_build_and_lay_out(length: int) -> int:
    """Python lines run by link() and select() for a chain of ``length``: a count of work that, unlike
    a stopwatch, does not depend on what else the machine is doing."""
    nodes, steps = chain(length), 0

    def trace(frame, event, arg):
        nonlocal steps
        steps += 1
        return trace

    sys.settrace(trace)
    try:
        by_id = link(nodes)
        select([by_id[1]], replies=3)
    finally:
        sys.settrace(None)
    return steps


def test_building_a_chain_takes_linear_work():
    small, large = _steps_to_build_and_lay_out(2_000), _steps_to_build_and_lay_out(16_000)
    # Linear: 8 times the rows take 8 times the steps; quadratic would take 64 times.
    assert 7 < large / small < 9, (small, large)
