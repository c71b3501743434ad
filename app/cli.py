"""Command-line tools: ``flask --app app users create``, ``rerender``, ``demo``."""
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from . import accounts
from .errors import ApiError
from .extensions import db
from .models import Comment, Role

users = AppGroup("users", help="Manage accounts.")


@users.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.READER.value)
@click.option("--display-name", default=None)
def create_user(username, email, password, role, display_name):
    """Create an account with the given role."""
    try:
        user = accounts.register(username, email, password, display_name,
                                 current_app.config["PASSWORD_HASH_METHOD"], role=Role(role))
    except ApiError as exc:
        detail = "; ".join(f"{k} {v}" for k, v in (exc.fields or {}).items()) or exc.message
        db.session.rollback()
        raise click.ClickException(detail) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.username} (id {user.id}).")


@click.command("rerender")
@with_appcontext
def rerender():
    """Render every comment's HTML again from its Markdown source."""
    from .sanitize import render
    count = 0
    last_id = 0
    while True:
        batch = db.session.scalars(
            select(Comment).where(Comment.id > last_id).order_by(Comment.id).limit(500)
        ).all()
        if not batch:
            break
        for comment in batch:
            comment.body_html = render(comment.body)
            count += 1
        last_id = batch[-1].id
        db.session.commit()
    click.echo(f"Rendered {count} comments.")


def register_commands(app) -> None:
    app.cli.add_command(users)
    app.cli.add_command(rerender)
    try:
        from .demo import demo
    except ModuleNotFoundError as exc:
        if exc.name != "app.demo":
            raise
    else:
        app.cli.add_command(demo)
