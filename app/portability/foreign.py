"""Running an import of another system's export: ``flask --app app import disqus|wordpress|isso FILE``."""
import os
import sqlite3
import sys
from xml.etree.ElementTree import ParseError

import click
from defusedxml import DefusedXmlException
from flask import current_app

from ..extensions import db
from .importer import Importer
from .source_disqus import DisqusSource
from .source_isso import IssoSource
from .source_wordpress import WordPressSource
from .workers import Preparer, default_workers

SOURCES = {"disqus": DisqusSource, "wordpress": WordPressSource, "isso": IssoSource}
# What a file that is not (or not all) an export of its kind raises while it is read.
UNREADABLE = (ParseError, DefusedXmlException, sqlite3.DatabaseError, UnicodeDecodeError)


def run_import(kind: str, path: str, key_mode: str, dry_run: bool, source: str | None,
               batch_size: int, workers: int | None = None) -> None:
    """Stream the file into the database in batches (a commit every ``batch_size`` comments), with a
    progress bar on stderr, then print the report; ``dry_run`` writes nothing. ``workers``: processes
    preparing bodies meanwhile (None: one per CPU for a file big enough; 0: none)."""
    config = current_app.config
    try:
        reader = SOURCES[kind](path)
        importer = Importer(source or kind, key_mode, max_depth=config["MAX_DEPTH"],
                            max_length=config["MAX_COMMENT_LENGTH"], dry_run=dry_run, batch_size=batch_size)
        if workers is None:
            workers = default_workers(os.path.getsize(path))
        broken = None
        with click.progressbar(length=max(reader.total, 1), label=f"Importing {kind}",
                               file=sys.stderr) as bar, Preparer(workers, importer.max_length) as preparer:
            try:
                for item, prepared in preparer.run(reader, importer.wanted):
                    importer.add(item, prepared)
                    bar.update(reader.done - bar.pos)
            except UNREADABLE as error:  # a file cut short, say: what was read before stays consistent
                broken = error
            report = importer.finish(complete=broken is None)
    except UNREADABLE as error:
        db.session.rollback()
        raise click.ClickException(f"cannot read {path} as a {kind} export: {error}") from None
    except BaseException:
        db.session.rollback()  # the batches committed so far stay: rerunning the same file resumes
        raise
    for line in report.lines(dry_run, complete=broken is None):
        click.echo(line)
    if broken is not None:
        imported = "" if dry_run else (
            " What was read before it is imported, as counted above; once the file is whole, run the"
            " import again: nothing is imported twice.")
        raise click.ClickException(f"cannot read all of {path} as a {kind} export: {broken}.{imported}")
