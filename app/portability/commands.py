"""The command line of imports and exports: ``flask --app app import disqus|wordpress|isso|jsonl FILE``
and ``flask --app app export FILE.jsonl``."""
import click
from flask.cli import AppGroup

import_group = AppGroup("import", help="Import another system's export, or a Causerie JSONL export.")


def register(app) -> None:
    app.cli.add_command(import_group)
