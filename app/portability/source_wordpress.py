"""Reading a WordPress export (WXR: RSS with ``wp:`` elements, export namespaces 1.0, 1.1 and 1.2, over
http or https), streamed with a hardened parser (xmlsafe: entity declarations and external references
are refused): each comment is read when its element ends and then dropped, and each post when it ends.

comment_approved 1 -> approved, 0 -> pending, spam -> spam, trash (and post-trashed) -> not imported
(a tombstone if it has replies); pingbacks and trackbacks are not imported (counted), nor is any other
kind of "comment" WordPress keeps in the same table: editors' notes on blocks (``note``, WordPress 6.9),
WooCommerce's order notes and the like (counted as ``other``). Reviews are readers' comments and come in.
"""
import os
import re
from collections.abc import Iterator

from .records import Author, Item, Thread, paragraphs, parse_time
from .xmlsafe import iterparse

WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/$")
STATUSES = {"1": "approved", "approve": "approved", "0": "pending", "hold": "pending", "spam": "spam"}
TRASHED = {"trash", "post-trashed"}
# comment_type values that are readers' comments ("review": WooCommerce's product reviews).
COMMENT_TYPES = {"", "comment", "review"}


def _name(tag: str) -> str:
    """``wp:comment`` for any of the WXR namespaces, ``content:encoded``, else the local name."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        if WP_NAMESPACE.match(namespace):
            return "wp:" + local
        if namespace == "http://purl.org/rss/1.0/modules/content/":
            return "content:" + local
        return local
    return tag


def _fields(element) -> dict[str, str]:
    """The text of the element's children by name (the first of each name)."""
    found = {}
    for child in element:
        found.setdefault(_name(child.tag), child.text or "")
    return found


class WordPressSource:
    kind = "wordpress"

    def __init__(self, path: str):
        self.path = path
        self.total = os.path.getsize(path)
        self.done = 0

    def __iter__(self) -> Iterator[Item]:
        with open(self.path, "rb") as handle:
            channel = post = thread = None
            for event, element in iterparse(handle, events=("start", "end")):
                name = _name(element.tag)
                if event == "start":
                    if name == "channel":
                        channel = element
                    elif name == "item":
                        post, thread = element, None
                    continue
                if name == "wp:comment" and post is not None:
                    if thread is None:
                        thread = _thread(post)
                    item = _comment(element, thread)
                    post.remove(element)
                    self.done = handle.tell()
                    if item is not None:
                        yield item
                elif name == "item" and channel is not None:
                    channel.remove(element)
                    post = None


def _thread(post) -> Thread:
    fields = _fields(post)
    post_id = fields.get("wp:post_id", "").strip()
    return Thread(source_id=post_id or fields.get("guid", "").strip() or fields.get("link", "").strip(),
                  identifier=post_id, url=fields.get("link", "").strip(),
                  title=fields.get("title", "").strip(),
                  created_at=parse_time(fields.get("wp:post_date_gmt")) or parse_time(fields.get("wp:post_date")),
                  closed=fields.get("wp:comment_status", "").strip().lower() == "closed")


def _comment(element, thread: Thread) -> Item | None:
    fields = _fields(element)
    source_id = fields.get("wp:comment_id", "").strip()
    if not source_id:
        return None
    kind = fields.get("wp:comment_type", "").strip().lower()
    approved = fields.get("wp:comment_approved", "").strip().lower()
    skip = None
    if kind in ("pingback", "trackback"):
        skip = kind
    elif kind not in COMMENT_TYPES:
        skip = "other"
    elif approved in TRASHED:
        skip = "deleted"
    parent = fields.get("wp:comment_parent", "").strip()
    user_id = fields.get("wp:comment_user_id", "").strip()
    author = Author(name=fields.get("wp:comment_author", ""), email=fields.get("wp:comment_author_email", ""),
                    handle=f"wp-user-{user_id}" if user_id not in ("", "0") else "")
    created = parse_time(fields.get("wp:comment_date_gmt")) or parse_time(fields.get("wp:comment_date"))
    return Item(source_id=source_id, thread=thread if thread.source_id else None,
                parent_id=parent if parent not in ("", "0") else None, author=author, created_at=created,
                body=paragraphs(fields.get("wp:comment_content", "")), html=True,
                status=STATUSES.get(approved, "pending"), skip=skip)
