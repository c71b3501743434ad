"""``flask --app app spam ...``: the spam filter for operators (the worker trains it on its own)."""
import json

import click
from flask.cli import AppGroup

from . import learning, state

spam = AppGroup("spam", help="The spam filter.")


@spam.command("retrain")
def retrain():
    """Train a new version now on the moderators' decisions, whatever the schedule."""
    version = learning.retrain()
    if version is None:
        raise click.ClickException("no version was trained: no moderator decision to learn from yet, "
                                   "another worker is training, or training failed (see the log)")
    click.echo(f"Version {version.id}: learned from {version.decisions_approve} not-spam and "
               f"{version.decisions_spam} spam decisions; {json.dumps(version.metrics)}")


@spam.command("status")
def status():
    """The filter's settings, current version and recent precision and recall (as the API shows them)."""
    click.echo(json.dumps(state.summary(), indent=2))
