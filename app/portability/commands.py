"""The command line of imports and exports: ``flask --app app import disqus|wordpress|isso|jsonl FILE``
and ``flask --app app export FILE.jsonl``."""
import click
from flask.cli import AppGroup, with_appcontext

import_group = AppGroup("import", help="Import another system's export, or a Causerie JSONL export.")


@import_group.command("jsonl")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_jsonl(path):
    """Load a Causerie JSONL export (``flask export``) into this new, empty database."""
    from .restore import RestoreError, restore_file
    try:
        counts, filled = restore_file(path)
    except RestoreError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {sum(counts.values())} rows: "
               + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".")
    for kind, key, column, value in filled:
        click.echo(f"New {column} of {kind} {key}: {value}  (shown once: give it to the receiver)")


def _foreign_import(kind: str, name: str) -> None:
    @import_group.command(kind, help=f"Import {name} export from PATH (rerunnable: what is already "
                                     "imported is skipped).")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--key", "key_mode", type=click.Choice(["identifier", "url"]), default="identifier",
                  help="Article keys from the thread identifier (default; the URL when it has none) "
                       "or from the normalised URL.")
    @click.option("--dry-run", is_flag=True, help="Print the report only; write nothing.")
    @click.option("--source", default=None, help=f"Name of this site's imports (default {kind}): keeps "
                                                 "the ids of two sites of the same kind apart.")
    @click.option("--batch-size", default=500, type=click.IntRange(1, 100_000),
                  help="Comments per committed batch.")
    @click.option("--workers", default=None, type=click.IntRange(0, 64),
                  help="Processes preparing bodies meanwhile (default: one per CPU, none for a small "
                       "file; 0: none).")
    def command(path, key_mode, dry_run, source, batch_size, workers):
        from .foreign import run_import
        run_import(kind, path, key_mode, dry_run, source, batch_size, workers)


for _kind, _name in (("disqus", "a Disqus"), ("wordpress", "a WordPress (WXR)"), ("isso", "an Isso (SQLite)")):
    _foreign_import(_kind, _name)


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(path):
    """Write everything to PATH as JSONL (no password hashes, tokens or secrets)."""
    from .export import ExportError, export_file
    try:
        counts, undelivered = export_file(path)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Exported {sum(counts.values())} rows to {path}: "
               + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".")
    if undelivered:
        click.echo(f"Warning: {undelivered} outbox messages are not delivered yet and are not exported: "
                   "run 'flask --app app worker --drain' first to send them.", err=True)


def register(app) -> None:
    app.cli.add_command(import_group)
    app.cli.add_command(export_command)
