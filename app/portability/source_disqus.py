"""Reading a Disqus export (``<disqus>``: categories, threads, then posts), streamed with a hardened
parser: defusedxml refuses entity declarations and external references, and every top-level element
is dropped once read, so memory stays bounded whatever the file's size.

isSpam -> the spam queue; isDeleted -> not imported (a tombstone if it has replies). A post whose
thread comes later in the file waits for it; one whose thread never comes is an orphan.
"""
import os
from collections.abc import Iterator

from defusedxml.ElementTree import iterparse

from ..timeutil import utcnow
from .records import Author, Item, Thread, parse_time

DSQ_ID = "{http://disqus.com/disqus-internals}id"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element, name: str):
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _flag(element, name: str) -> bool:
    return _text(element, name).lower() == "true"


def _ref(element, name: str) -> str | None:
    child = _child(element, name)
    return child.get(DSQ_ID) if child is not None and child.get(DSQ_ID) else None


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
                elif name == "post" and element.get(DSQ_ID):
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
    return Thread(source_id=element.get(DSQ_ID), identifier=_text(element, "id"),
                  url=_text(element, "link"), title=_text(element, "title"),
                  created_at=parse_time(_text(element, "createdAt")))


def _author(element) -> Author | None:
    author = _child(element, "author")
    if author is None:
        return None
    anonymous = _text(author, "isAnonymous").lower() == "true"
    username = "" if anonymous else _text(author, "username")
    return Author(name=_text(author, "name"), email=_text(author, "email"), handle=username,
                  login=username)


def _post(element, threads: dict[str, Thread]) -> tuple[Item, str | None]:
    thread_id = _ref(element, "thread")
    skip = "deleted" if _flag(element, "isDeleted") else None
    item = Item(source_id=element.get(DSQ_ID), thread=threads.get(thread_id or ""),
                parent_id=_ref(element, "parent"), author=_author(element),
                created_at=parse_time(_text(element, "createdAt")) or utcnow(),
                body=_text(element, "message"), html=True,
                status="spam" if _flag(element, "isSpam") else "approved", skip=skip)
    return item, thread_id
