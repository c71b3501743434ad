"""The machinery every import shares: articles, authors, batches, tombstones, the tree, the counts.

A source streams ``Item``s in any order. Comments are inserted as they come (as Core statements in
batches: no events, so history sends no notifications or webhooks), each with its source id in
``imported_objects`` in the same transaction, top-level for now. When the file is read, ``finish``
adds a tombstone for every missing, deleted or skipped parent that has replies, places every reply
under its parent (root_id and depth as posting sets them; replies beyond MAX_DEPTH are attached at
the cap), then recounts the shown replies of the comments with replies and the approved comments of
every article of the file, and bumps the version of every article it changed.

Memory: per comment only its source id, local id and parent's source id are kept, never bodies.
Rerunning skips every object already in ``imported_objects``, and ``finish`` repairs the tree of an
interrupted run. ``dry_run`` writes nothing: objects get made-up ids and nothing is committed.
"""
from itertools import count

from sqlalchemy import bindparam, func, insert, select, update

from ..database import writing
from ..discussion.articles import check_url
from ..discussion.sanitize import text_key
from ..discussion.shown import SHOWN_REPLIES_OF_ROW
from ..extensions import db
from ..models import Article, ArticleModeration, ArticleStatus, Comment, Status
from ..timeutil import utcnow
from .authors import author_source_id, create_accounts
from .bulk import insert_many
from .models import ImportedObject
from .records import Author, Body, Item, Report, Thread, article_key, prepare_or_reason

CHUNK = 500
SQLITE_CACHE_KB = 32_000
_COMMENTS = Comment.__table__
_INSERT_OBJECTS = insert(ImportedObject.__table__)
_INSERT_ARTICLE = insert(Article.__table__).returning(Article.__table__.c.id)
_PLACE = (update(_COMMENTS).where(_COMMENTS.c.id == bindparam("cid"))
          .values(parent_id=bindparam("p"), root_id=bindparam("r"), depth=bindparam("d")))
_RECOUNT = (update(Article.__table__).where(Article.__table__.c.id == bindparam("aid"))
            .values(comment_count=bindparam("n"), version=Article.__table__.c.version + 1))
_NO_TEXT_KEY = text_key("")  # a tombstone's
_SHOWN = (update(_COMMENTS).where(_COMMENTS.c.id == bindparam("cid"))
          .values(shown_replies=SHOWN_REPLIES_OF_ROW))


class Importer:
    def __init__(self, source: str, key_mode: str, max_depth: int, max_length: int,
                 dry_run: bool = False, batch_size: int = 500):
        self.source, self.key_mode, self.dry_run = source, key_mode, dry_run
        self.max_depth, self.max_length, self.batch_size = max_depth, max_length, batch_size
        self.report = Report()
        self._fake_ids = count(-1, -1)
        self.local = self._imported("comment")  # source comment id -> local comment id
        self.authors = self._imported("author")  # author_source_id(key) -> local user id
        self.new_authors: dict[str, Author] = {}  # met in this batch: their accounts are made at its flush
        self.articles = self._imported("article")  # thread source id -> local article id
        self.by_key: dict[str, int] = {}
        self.parent_of: dict[str, str] = {}  # source comment id -> its parent's source id
        self.placement: dict[int, tuple] = {}  # local id -> (parent, root, depth), final at insert
        self.article_of: dict[int, int] = {}  # local comment id -> its article (this run's, and looked up)
        self.skipped: dict[str, tuple[Thread, object]] = {}  # not imported: (thread, created_at)
        self.touched: set[int] = set()  # articles this file has comments on
        self.changed: set[int] = set()  # articles whose thread this run changed
        self.pending: list[tuple[str, str | None, dict]] = []  # source id, author's, row
        self.pending_ids: set[str] = set()
        self.locked = False

    # -- reading the file ---------------------------------------------------------------------

    def wanted(self, item: Item) -> bool:
        """Whether ``add`` may need the body of ``item`` prepared (workers prepare those ahead)."""
        return item.thread is not None and not item.skip and item.source_id not in self.local

    def add(self, item: Item, prepared: Body | str | None = None) -> None:
        """Import ``item``, or count why not. ``prepared``: its ``prepare_or_reason``, if done ahead."""
        sid = item.source_id
        if sid in self.local or sid in self.pending_ids:
            self.report.skipped["duplicate"] += 1
            if item.parent_id and sid not in self.parent_of:
                self.parent_of[sid] = item.parent_id  # an interrupted run's replies still get placed
            if item.thread is not None and item.thread.source_id in self.articles:
                self.touched.add(self.articles[item.thread.source_id])  # and its counts get made right
            return
        if item.parent_id and item.parent_id != sid:
            self.parent_of[sid] = item.parent_id
        if item.thread is None:
            self.report.skipped["orphan"] += 1
            return
        if item.created_at is None:  # unreadable in the file: not "now", the newest of all comments
            item.created_at = item.thread.created_at or utcnow()
            self.report.undated += 1
        if item.skip:
            return self._skip(item, item.skip)
        body = prepared if prepared is not None else prepare_or_reason(item.body, item.html, self.max_length)
        if isinstance(body, str):
            return self._skip(item, body)
        article_id = self._article(item.thread)
        if article_id is None:
            self.parent_of.pop(sid, None)
            self.report.skipped["orphan"] += 1
            return
        self._queue(sid, self._author(item), self._row(article_id, item, body))
        self.report.comments[item.status] += 1
        self.report.long += body.long
        self.report.truncated += body.truncated

    def _skip(self, item: Item, reason: str) -> None:
        self.report.skipped[reason] += 1
        self.skipped[item.source_id] = (item.thread, item.created_at)

    def _row(self, article_id: int, item: Item, body: Body | None) -> dict:
        """The comment's row, its author left to the flush (None: a tombstone's)."""
        html = body.html if body else ""
        status = item.status if body else Status.DELETED.value
        return dict(article_id=article_id, author_id=None, body=body.source if body else "",
                    body_html=html, parent_id=None, root_id=None, depth=0, status=status,
                    created_at=item.created_at, decided_at=item.created_at, edited_at=None, pinned=False,
                    score=item.upvotes - item.downvotes, upvotes=item.upvotes, downvotes=item.downvotes,
                    open_flags=0, text_key=body.key if body else _NO_TEXT_KEY)

    def _queue(self, sid: str, author: str | None, row: dict) -> None:
        self.pending.append((sid, author, row))
        self.pending_ids.add(sid)
        self.touched.add(row["article_id"])
        self.changed.add(row["article_id"])
        if len(self.pending) >= self.batch_size:
            self.flush()

    # -- writing ------------------------------------------------------------------------------

    def _lock(self) -> None:
        """Before the first write of a batch: SQLite's write lock (writing()), kept until the commit,
        and a page cache big enough for the indexes of the comments (the default 2 MB makes SQLite
        read the same index pages again and again: a fifth of the writing time)."""
        if not self.locked and not self.dry_run:
            with writing():
                pass
            if db.engine.dialect.name == "sqlite":
                db.session.connection().exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
            self.locked = True

    def _remember(self, kind: str, rows: list[tuple[str, int]]) -> None:
        if rows and not self.dry_run:
            db.session.connection().execute(_INSERT_OBJECTS, [
                dict(source=self.source, kind=kind, source_id=sid, local_id=local) for sid, local in rows])

    def flush(self) -> None:
        """Insert the queued comments and commit the batch (authors and articles made for it included)."""
        if self.pending:
            self._lock()
            self._create_authors()
            rows, final = [], []
            for sid, author, row in self.pending:
                row["author_id"] = self.authors[author] if author else None
                final.append(self._place_early(sid, row))
                rows.append(row)
            if self.dry_run:
                ids = [next(self._fake_ids) for _ in rows]
            else:
                ids = insert_many(_COMMENTS, rows)
            pairs = [(sid, local) for (sid, _author, _row), local in zip(self.pending, ids)]
            self._remember("comment", pairs)
            self.local.update(pairs)
            self.article_of.update((local, row["article_id"]) for local, row in zip(ids, rows))
            self.placement.update((local, (row["parent_id"], row["root_id"], row["depth"]))
                                  for local, row, is_final in zip(ids, rows, final) if is_final)
            self.pending, self.pending_ids = [], set()
        self._commit()

    def _place_early(self, sid: str, row: dict) -> bool:
        """Place a reply at insert when its parent is in place for good (a comment of an earlier batch,
        top-level in the file or itself placed so): ``finish`` then finds it right and leaves its row
        alone (rewriting replies' rows was a sixth of an import's time). True when ``row`` is final."""
        parent_sid = self.parent_of.get(sid)
        if parent_sid is None:
            return True
        parent = self.local.get(parent_sid)
        if parent is None or parent not in self.placement or self.article_of.get(parent) != row["article_id"]:
            return False
        p_parent, p_root, p_depth = self.placement[parent]
        if p_depth < self.max_depth:
            row["parent_id"], row["root_id"], row["depth"] = parent, p_root or parent, p_depth + 1
        else:  # as _tree: beside its parent, under the same grandparent
            row["parent_id"], row["root_id"], row["depth"] = p_parent, p_root, p_depth
        return True

    def _commit(self) -> None:
        if self.dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        self.locked = False

    def _imported(self, kind: str) -> dict[str, int]:
        query = select(ImportedObject.source_id, ImportedObject.local_id).where(
            ImportedObject.source == self.source, ImportedObject.kind == kind)
        return dict(db.session.execute(query).all())

    def _article(self, thread: Thread) -> int | None:
        """The local article of ``thread``: imported before, or the one with its key, or a new one."""
        if thread.source_id in self.articles:
            return self.articles[thread.source_id]
        key = article_key(thread, self.key_mode)
        if key is None:
            return None
        article_id = self.by_key.get(key) or db.session.scalar(select(Article.id).where(Article.key == key))
        if article_id is None:
            self._lock()
            self.report.articles += 1
            article_id = next(self._fake_ids) if self.dry_run else db.session.connection().execute(
                _INSERT_ARTICLE, dict(
                    key=key, title=" ".join(thread.title.split())[:300] or key,
                    url=thread.url.strip() if not check_url(thread.url.strip()) else "",
                    status=(ArticleStatus.CLOSED if thread.closed else ArticleStatus.OPEN).value,
                    moderation=ArticleModeration.INHERIT.value,
                    meta_source="page", comment_count=0, version=0,
                    created_at=thread.created_at or utcnow())).scalar_one()
        self.by_key[key] = self.articles[thread.source_id] = article_id
        self._lock()
        self._remember("article", [(thread.source_id, article_id)])
        return article_id

    def _author(self, item: Item) -> str | None:
        """The source id of the author of ``item`` (None: no author); a new one gets its account at the flush."""
        key = item.author.key() if item.author else None
        if key is None:
            return None
        sid = author_source_id(key)
        if sid not in self.authors and sid not in self.new_authors:
            self.report.authors += 1
            self.new_authors[sid] = item.author
        return sid

    def _create_authors(self) -> None:
        if not self.new_authors:
            return
        sids, authors = list(self.new_authors), list(self.new_authors.values())
        ids = ([next(self._fake_ids) for _ in authors] if self.dry_run
               else create_accounts(authors, self.source))
        self.authors.update(zip(sids, ids))
        self._remember("author", list(zip(sids, ids)))
        self.new_authors = {}

    # -- after the file -----------------------------------------------------------------------

    def finish(self, complete: bool = True) -> Report:
        """Tombstones, replies placed, counts made right; then commit. ``complete=False``: the file
        broke off, so a parent not read yet may still come (a rerun of the whole file reads it): only
        parents read and skipped become tombstones, and what was read is placed and counted, so that
        the API shows it consistently."""
        self.flush()
        self._tombstones(complete)
        placed = self._tree()
        if not self.dry_run:
            self._lock()
            moved_from = self._place(placed)
            self._recount_shown(placed, moved_from)
            self._recount()
        self._commit()
        return self.report

    def _tombstones(self, complete: bool) -> None:
        """A deleted, skipped or missing parent with replies becomes a tombstone, never a lost subtree
        (``complete=False``: not a missing one, the rest of the file may hold it)."""
        wanted = {parent: child for child, parent in self.parent_of.items()
                  if child in self.local and parent not in self.local}
        while wanted:
            parent, child = wanted.popitem()
            if parent in self.local:
                continue
            if parent in self.skipped:
                thread, created_at = self.skipped[parent]
                article_id = self._article(thread) if thread is not None else None
            elif complete:  # not in the file at all: in the thread of its reply
                article_id, created_at = self._whereabouts(self.local[child])
            else:
                continue
            if article_id is None:
                continue
            self._lock()
            ghost = Item(parent, None, None, None, created_at, "", False)
            row = self._row(article_id, ghost, None)
            local = next(self._fake_ids) if self.dry_run else insert_many(_COMMENTS, [row])[0]
            self._remember("comment", [(parent, local)])
            self.local[parent] = local
            self.article_of[local] = article_id
            self.touched.add(article_id)
            self.changed.add(article_id)
            self.report.tombstones += 1
            grandparent = self.parent_of.get(parent)
            if grandparent and grandparent not in self.local:
                wanted.setdefault(grandparent, parent)

    def _whereabouts(self, local_id: int):
        if self.dry_run and local_id < 0:
            return -1, utcnow()
        row = db.session.execute(select(Comment.article_id, Comment.created_at)
                                 .where(Comment.id == local_id)).first()
        return (row.article_id, row.created_at) if row else (None, None)

    def _tree(self) -> dict[int, tuple[int | None, int | None, int]]:
        """local id -> (parent, root, depth) of every reply of the file, capped at max_depth. A reply
        to a comment of another thread (a source can move threads) stays top-level in its own: a
        parent in another article is a tree no post could make, and no page would show the reply."""
        up = {self.local[c]: self.local[p] for c, p in self.parent_of.items()
              if c in self.local and p in self.local and self.local[c] != self.local[p]}
        self._look_up_articles(set(up) | set(up.values()))
        elsewhere = [child for child, parent in up.items()
                     if self.article_of.get(child) != self.article_of.get(parent)]
        for child in elsewhere:
            del up[child]
        self.report.elsewhere = len(elsewhere)
        placed: dict[int, tuple[int | None, int | None, int]] = {}
        for start in up:
            chain, on_chain, node = [], set(), start
            while node in up and node not in placed:
                if node in on_chain:  # a cycle in the source: its first comment becomes top-level
                    placed[node] = (None, None, 0)
                    break
                chain.append(node)
                on_chain.add(node)
                node = up[node]
            for node in reversed(chain):
                if node in placed:
                    continue
                parent = up[node]
                p_parent, p_root, p_depth = placed.get(parent, (None, None, 0))
                if p_depth < self.max_depth:
                    placed[node] = (parent, p_root or parent, p_depth + 1)
                else:  # attached at the cap: beside its parent, under the same grandparent
                    placed[node] = (p_parent, p_root, p_depth)
                    self.report.capped += 1
        return placed

    def _look_up_articles(self, ids: set[int]) -> None:
        """``article_of`` for comments an earlier run imported."""
        missing = sorted(i for i in ids if i not in self.article_of)
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            self.article_of.update(db.session.execute(
                select(Comment.id, Comment.article_id).where(Comment.id.in_(chunk))).all())

    def _place(self, placed: dict) -> set[int]:
        """Write the tree where the stored rows differ (new rows, or an interrupted run's); the
        parents that rows moved away from."""
        moved_from = set()
        # Rows placed for good at their insert (``_place_early``) are known to be right: not read again.
        ids = sorted(cid for cid, place in placed.items() if self.placement.get(cid) != place)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            rows = db.session.execute(select(Comment.id, Comment.parent_id, Comment.root_id, Comment.depth,
                                             Comment.article_id).where(Comment.id.in_(chunk))).all()
            changes = []
            for row in rows:
                if (row.parent_id, row.root_id, row.depth) != placed[row.id]:
                    parent, root, depth = placed[row.id]
                    changes.append(dict(cid=row.id, p=parent, r=root, d=depth))
                    self.changed.add(row.article_id)
                    if row.parent_id is not None and row.parent_id != parent:
                        moved_from.add(row.parent_id)
                self.touched.add(row.article_id)
            if changes:
                db.session.connection().execute(_PLACE, changes)
        return moved_from

    def _recount_shown(self, placed: dict, moved_from: set[int]) -> None:
        """``shown_replies`` (shown.py) of every comment that has replies in the file or lost one, the
        deepest first: the parents only, not every comment of the articles (``shown.recount``)."""
        depth = {parent: child_depth - 1 for parent, _root, child_depth in placed.values() if parent is not None}
        for parent in moved_from:
            depth.setdefault(parent, placed[parent][2] if parent in placed else 0)
        levels: dict[int, list[int]] = {}
        for parent, level in depth.items():
            levels.setdefault(level, []).append(parent)
        for level in sorted(levels, reverse=True):
            ids = sorted(levels[level])
            for start in range(0, len(ids), CHUNK):
                db.session.connection().execute(_SHOWN, [dict(cid=cid) for cid in ids[start:start + CHUNK]])

    def _recount(self) -> None:
        """Approved comments per article, exact; version bumped where the thread changed."""
        ids = sorted(self.touched)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            stored = dict(db.session.execute(select(Article.id, Article.comment_count)
                                             .where(Article.id.in_(chunk))).all())
            actual = dict(db.session.execute(
                select(Comment.article_id, func.count()).where(
                    Comment.article_id.in_(chunk), Comment.status == Status.APPROVED.value)
                .group_by(Comment.article_id)).all())
            changes = [dict(aid=aid, n=actual.get(aid, 0)) for aid in chunk
                       if aid in stored and (aid in self.changed or stored[aid] != actual.get(aid, 0))]
            if changes:
                db.session.connection().execute(_RECOUNT, changes)
