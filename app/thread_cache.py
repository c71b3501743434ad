"""A per-process cache of the thread pages anonymous readers get.

Most readers are anonymous and see the same bytes, so the serialized JSON of
a page is kept, keyed by the article's ``version``: every write to a thread
bumps it (``lifecycle.touch_article``), so a stale page can never be served,
whichever process made the change. Logged-in readers are never served from
here (they see their own votes and pending comments).
"""
from collections import OrderedDict
from threading import Lock

from flask import current_app

MAX_ENTRIES = 512


class PageCache:
    """A small thread-safe LRU of serialized pages."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: bytes) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)


def pages() -> PageCache:
    """This application's cache (one per app, so separate apps never share pages)."""
    return current_app.extensions.setdefault("causerie_thread_pages", PageCache())
