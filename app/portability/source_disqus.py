"""Reading a Disqus export (``<disqus>``: categories, threads, then posts), streamed with a hardened
parser (xmlsafe: entity declarations and external references are refused), and every top-level
element is dropped once read, so memory stays bounded whatever the file's size.

isSpam -> the spam queue; isDeleted -> not imported (a tombstone if it has replies). A post whose
thread comes later in the file waits for it; one whose thread never comes is an orphan.
"""
import hashlib
import os
from collections.abc import Iterator

from .records import Author, Item, Thread, parse_time
from .xmlsafe import iterparse

DSQ_ID = "{http://disqus.com/disqus-internals}id"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element) -> dict:
    """The element's children by local name (the first of each name)."""
    found = {}
    for child in element:
        found.setdefault(_local(child.tag), child)
    return found


def _text(children: dict, name: str) -> str:
    child = children.get(name)
    return (child.text or "").strip() if child is not None else ""


def _flag(children: dict, name: str) -> bool:
    return _text(children, name).lower() == "true"


def _ref(children: dict, name: str) -> str | None:
    child = children.get(name)
    return child.get(DSQ_ID) or None if child is not None else None


class DisqusSource:
    kind = "disqus"

    def __init__(self, path: str):
        self.path = path
        self.total = os.path.getsize(path)
        self.done = 0

    def __iter__(self) -> Iterator[Item]:
        threads: dict[str, Thread] = {}
        waiting: list[tuple[Item, str]] = []
        with open(self.path, "rb") as handle:
            root, depth = None, 0
            for event, element in iterparse(handle, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if root is None:
                        root = element
                    continue
                depth -= 1
                if depth != 1:
                    continue
                name = _local(element.tag)
                if name == "thread" and element.get(DSQ_ID):
                    threads[element.get(DSQ_ID)] = _thread(element)
                elif name == "post":
                    item, thread_id = _post(element, threads)
                    if item.thread is None and thread_id:
                        waiting.append((item, thread_id))
                    else:
                        yield item
                root.clear()
                self.done = handle.tell()
        for item, thread_id in waiting:
            item.thread = threads.get(thread_id)
            yield item


def _thread(element) -> Thread:
    children = _children(element)
    return Thread(source_id=element.get(DSQ_ID), identifier=_text(children, "id"),
                  url=_text(children, "link"), title=_text(children, "title"),
                  created_at=parse_time(_text(children, "createdAt")), closed=_flag(children, "isClosed"))


def _author(children: dict) -> Author | None:
    author = children.get("author")
    if author is None:
        return None
    fields = _children(author)
    username = "" if _flag(fields, "isAnonymous") else _text(fields, "username")
    return Author(name=_text(fields, "name"), email=_text(fields, "email"), handle=username, login=username)


def _post_id(element, children: dict, thread_id: str | None) -> str:
    """The post's dsq:id; without one (some exports have such posts) its <id>, or else a digest of
    what it says, so that importing the file again still finds it imported."""
    if element.get(DSQ_ID):
        return element.get(DSQ_ID)
    if _text(children, "id"):
        return "id:" + _text(children, "id")
    author = children.get("author")
    said = [thread_id or "", _text(children, "createdAt"), _text(children, "message"),
            *((_text(_children(author), name) for name in ("name", "email")) if author is not None else ())]
    return "digest:" + hashlib.sha256("\x00".join(said).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _post(element, threads: dict[str, Thread]) -> tuple[Item, str | None]:
    children = _children(element)
    thread_id = _ref(children, "thread")
    skip = "deleted" if _flag(children, "isDeleted") else None
    item = Item(source_id=_post_id(element, children, thread_id), thread=threads.get(thread_id or ""),
                parent_id=_ref(children, "parent"), author=_author(children),
                created_at=parse_time(_text(children, "createdAt")),
                body=_text(children, "message"), html=True,
                status="spam" if _flag(children, "isSpam") else "approved", skip=skip)
    return item, thread_id
