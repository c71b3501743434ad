"""Command-line tools: ``flask --app app users create``, ``rerender``, ``demo``, ``worker``."""
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from .accounts import registration
from .database import writing
from .discussion.lifecycle import thread_changed
from .discussion.sanitize import RenderError, render_stored
from .errors import ApiError
from .extensions import db
from .models import Comment, Role, values

users = AppGroup("users", help="Manage accounts.")


@users.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(values(Role)), default=Role.READER.value)
@click.option("--display-name", default=None)
def create_user(username, email, password, role, display_name):
    """Create an account with the given role."""
    try:
        user = registration.register(username, email, password, display_name,
                                 current_app.config["PASSWORD_HASH_METHOD"], role=Role(role),
                                 verified=True)  # an operator vouches for the address
    except ApiError as exc:
        detail = "; ".join(f"{k} {v}" for k, v in (exc.fields or {}).items()) or exc.message
        db.session.rollback()
        raise click.ClickException(detail) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


def _rerender_batch(batch: list[Comment]) -> tuple[int, list[int]]:
    """Store the new HTML of the comments whose rendering changed and bump their articles' versions
    (so every worker's cached thread pages go stale); returns (changed, ids that failed to render)."""
    changed, failed, articles = 0, [], set()
    for comment in batch:
        try:
            html = render_stored(comment.body)[0]
        except RenderError:
            failed.append(comment.id)  # keeps its old HTML rather than stopping the whole run
            continue
        if html != comment.body_html:
            comment.body_html = html
            articles.add(comment.article_id)
            changed += 1
    for article_id in sorted(articles):  # a fixed order, so concurrent writers cannot deadlock with us
        thread_changed(article_id)
    db.session.flush()
    return changed, failed


@click.command("rerender")
@with_appcontext
def rerender():
    """Render every comment's HTML again from its Markdown source (after an allowlist change)."""
    count = changed = 0
    failed: list[int] = []
    last_id = 0
    while True:
        with writing():  # read under the lock too: an edit landing meanwhile is never overwritten
            batch = db.session.scalars(
                select(Comment).where(Comment.id > last_id).order_by(Comment.id).limit(500)
            ).all()
            if not batch:
                break
            batch_changed, batch_failed = _rerender_batch(batch)
        count, changed = count + len(batch), changed + batch_changed
        failed += batch_failed
        last_id = batch[-1].id
        db.session.commit()  # the new HTML and the version bumps together
    click.echo(f"Rendered {count} comments; {changed} changed.")
    if failed:
        click.echo(f"Kept the old HTML of {len(failed)} that no longer render: ids {failed[:20]}", err=True)


def register_commands(app) -> None:
    app.cli.add_command(users)
    app.cli.add_command(rerender)
    from .demo.loader import demo
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    from .portability import commands as portability_commands
    portability_commands.register(app)
    from .spam.commands import spam
    app.cli.add_command(spam)


@click.command("worker")
@click.option("--drain", is_flag=True, help="Stop once nothing is due instead of waiting for more.")
@with_appcontext
def worker(drain):
    """Deliver the outbox (mail and webhooks) until stopped (SIGTERM, Ctrl-C)."""
    import logging

    from .notifications.worker import Worker, run_worker
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if drain:
        Worker(current_app._get_current_object()).drain()
    else:
        run_worker()
