"""A per-process cache of the thread pages readers share (``shared_pages``).

A page is kept keyed by its article's ``version``: every write that changes what a thread shows
bumps it (``lifecycle.thread_changed``), so a stale page can never be served, whichever process or
server made the change (the version is read from the database on every request). Anonymous readers
get a page's bytes as they are; logged-in readers the same page with their own votes, sources and
pending comments put in (``shared_pages.serve``), which are kept too, per reader and page version
(``readers``); moderators get pages of their own.
"""
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

from flask import current_app

MAX_ENTRIES = 512


class PageCache:
    """A small thread-safe LRU of serialized pages, bounded in entries and in bytes.

    The byte bound matters: a page of a large thread with many replies runs to hundreds of KiB,
    and anyone can ask for many different pages (sort, limit, replies, cursor), so entries alone
    would let a reader grow every worker by hundreds of MiB. A page over a quarter of the budget
    is served but not kept.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = 32 * 1024 * 1024):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: bytes) -> None:
        if len(page) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._pages[key] = page
            self._bytes += len(page)
            while len(self._pages) > self.max_entries or self._bytes > self.max_bytes:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= len(evicted)


def pages() -> PageCache:
    """This application's cache (one per app, so separate apps never share pages)."""
    return _cache("causerie_thread_pages", MAX_ENTRIES, current_app.config["THREAD_CACHE_BYTES"])


def readers() -> PageCache:
    """What logged-in readers add to the pages they read (``shared_pages.ReaderMarks``), per reader and
    page: small entries, many of them, an eighth of the pages' budget."""
    return _cache("causerie_reader_marks", 8 * MAX_ENTRIES, current_app.config["THREAD_CACHE_BYTES"] // 8)


def fragments() -> PageCache:
    """Each comment's JSON as shared pages show it (``shared_pages._fragment``), kept by its values: a page
    built again after a post serializes only what changed. Half the pages' budget."""
    return _cache("causerie_comment_fragments", 32 * MAX_ENTRIES, current_app.config["THREAD_CACHE_BYTES"] // 2)


def _cache(name: str, max_entries: int, max_bytes: int) -> PageCache:
    cache = current_app.extensions.get(name)
    if cache is None:
        cache = PageCache(max_entries=max_entries, max_bytes=max_bytes)
        current_app.extensions[name] = cache
    return cache


def cached_page(key: tuple, build: Callable[[], bytes], cache: PageCache | None = None) -> bytes:
    """The page ``key`` from this process's cache, built by ``build`` and kept on a miss. The key
    holds the article's id and ``version``, so a page of an older version is never found."""
    cache = cache if cache is not None else pages()
    page = cache.get(key)
    if page is None:
        page = build()
        cache.put(key, page)
    return page
