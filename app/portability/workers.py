"""Bodies prepared in worker processes while the main process reads the file and writes batches.

Preparing a body (``records.prepare``: HTML to Markdown, ``render_stored``, the text key) is pure
Python and most of an import's time, ~1.5 ms a comment; reading and writing are a fraction of it.
So the main process hands the bodies of the next chunks of items to a pool of processes (forked:
they start at once with everything imported) and gets the outcomes back in the file's order: the
importer decides exactly as without workers, and the database is the same whatever their number.

Bounded: at most IN_FLIGHT chunks per worker are out, each at most CHUNK_ITEMS items and
CHUNK_CHARS characters of bodies. Only items the importer will prepare are sent (``wanted``): not
skipped ones, not orphans, not ones imported by an earlier run.

Robust: one body that fails is ``unrenderable`` (``prepare_or_reason``), in a worker as here. A worker
that dies (killed for memory, say) breaks the pool: its chunks are prepared here, and so is the rest
of the file. Workers ignore Ctrl-C: the main process stops, drops the chunks not begun and waits for
the ones being prepared (a fraction of a second each).
"""
import gc
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from multiprocessing import get_context

from flask import current_app

from .records import Body, Item, prepare_or_reason

CHUNK_ITEMS = 200
CHUNK_CHARS = 1_000_000
IN_FLIGHT = 3  # chunks out per worker: one being prepared, the next ones waiting in its queue
POOL_MIN_BYTES = 1_000_000  # smaller files are done before a pool has paid for starting

Outcome = Body | str | None  # None: not prepared ahead (the importer prepares it if it needs to)


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_workers(file_size: int) -> int:
    """One worker per CPU, or none (0) on one CPU or for a small file."""
    cpus = usable_cpus()
    return cpus if cpus > 1 and file_size >= POOL_MIN_BYTES else 0


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _prepare_chunk(jobs: list[tuple[str, bool]], max_length: int) -> list[Body | str]:
    return [prepare_or_reason(body, is_html, max_length) for body, is_html in jobs]


class Preparer:
    """``with Preparer(workers, max_length) as preparer: for item, outcome in preparer.run(items, wanted)``.

    With 0 workers every outcome is None and the importer prepares bodies itself."""

    def __init__(self, workers: int, max_length: int):
        self.workers, self.max_length = workers, max_length
        self.pool: ProcessPoolExecutor | None = None
        self.forked = False

    def __enter__(self) -> "Preparer":
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("fork"),
                                            initializer=_ignore_ctrl_c)
        return self

    def __exit__(self, *_exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def run(self, items: Iterable[Item], wanted: Callable[[Item], bool]) -> Iterator[tuple[Item, Outcome]]:
        if self.pool is None:
            for item in items:
                yield item, None
            return
        out: deque[tuple[list[Item], list[bool], Future | None]] = deque()
        items = iter(items)
        while chunk := self._next_chunk(items):
            sent = [wanted(item) for item in chunk]
            jobs = [(item.body, item.html) for item, send in zip(chunk, sent) if send]
            future = self._submit(jobs) if self.pool and jobs else None
            out.append((chunk, sent, future))
            while len(out) >= IN_FLIGHT * self.workers:
                yield from self._collect(*out.popleft())
        while out:
            yield from self._collect(*out.popleft())

    def _submit(self, jobs: list[tuple[str, bool]]) -> Future:
        """The first submit forks the workers: with this process's objects frozen then, the workers'
        garbage collector leaves them alone and their pages stay shared instead of being copied into
        each worker (a third less memory for the whole tree)."""
        if self.forked:
            return self.pool.submit(_prepare_chunk, jobs, self.max_length)
        gc.freeze()
        try:
            return self.pool.submit(_prepare_chunk, jobs, self.max_length)
        finally:
            gc.unfreeze()
            self.forked = True

    @staticmethod
    def _next_chunk(items: Iterator[Item]) -> list[Item]:
        chunk, chars = [], 0
        for item in islice(items, CHUNK_ITEMS):
            chunk.append(item)
            chars += len(item.body)
            if chars >= CHUNK_CHARS:
                break
        return chunk

    def _collect(self, chunk: list[Item], sent: list[bool], future: Future | None):
        outcomes: Iterator[Outcome] = iter(())
        if future is not None:
            try:
                outcomes = iter(future.result())
            except BrokenProcessPool:
                if self.pool is not None:
                    current_app.logger.warning("A worker process died: the bodies left are prepared in "
                                               "this process, without workers.")
                    self.pool.shutdown(wait=False, cancel_futures=True)
                    self.pool = None
        for item, send in zip(chunk, sent):
            yield item, next(outcomes, None) if send else None
