"""Assembling reply trees in O(n), without recursion. Pure functions on plain rows.

A node is *shown* when the viewer may read it, or when it has a shown reply
(it is then a tombstone that keeps its replies in place). ``reply_count`` of
a node counts its shown direct replies; the first ``replies`` of them (oldest
first) are nested, at every level.
"""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Node:
    id: int
    parent_id: int | None
    depth: int
    created_at: datetime
    visible: bool
    shown: bool = False
    children: list["Node"] = field(default_factory=list)


def link(nodes: list[Node]) -> dict[int, Node]:
    """Index ``nodes`` by id, attach children (oldest first) and mark what is shown."""
    by_id = {node.id: node for node in nodes}
    for node in nodes:
        parent = by_id.get(node.parent_id)
        if parent is not None:
            parent.children.append(node)
    for node in nodes:
        node.children.sort(key=lambda child: (child.created_at, child.id))
    # Deepest first, so a node's replies are settled before the node itself.
    for node in sorted(nodes, key=lambda n: n.depth, reverse=True):
        node.shown = node.visible or any(child.shown for child in node.children)
    return by_id


def shown_children(node: Node) -> list[Node]:
    return [child for child in node.children if child.shown]


def select(tops: list[Node], replies: int) -> dict[int, tuple[list[int], int, int]]:
    """For every node to render under ``tops``: (ids of nested replies, reply_count, more_replies).

    Walks breadth-first with an explicit queue, so a chain thousands of levels
    deep cannot overflow the stack.
    """
    layout: dict[int, tuple[list[int], int, int]] = {}
    queue = list(tops)
    while queue:
        node = queue.pop()
        children = shown_children(node)
        nested = children[:replies]
        layout[node.id] = ([child.id for child in nested], len(children), len(children) - len(nested))
        queue.extend(nested)
    return layout
