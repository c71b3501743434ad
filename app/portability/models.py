"""The table of imports: which local row each imported object became, so an import can be rerun."""
from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ImportedObject(db.Model):
    """One object of another system's export (a comment, an author, a thread) and the local row it became.

    ``source`` names the export's system and site (``disqus``, ``wordpress``, ``isso`` or what
    ``--source`` says); ``kind`` is ``comment``, ``author`` or ``article``. Rerunning an import skips
    every object already here, so the same file imported twice adds nothing the second time.
    """

    __tablename__ = "imported_objects"
    __table_args__ = (
        UniqueConstraint("source", "kind", "source_id", name="uq_imported_objects_source"),
        Index("ix_imported_objects_local", "kind", "local_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(255))
    local_id: Mapped[int] = mapped_column()
