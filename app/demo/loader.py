"""``flask --app app demo``: the demo article, a small threaded discussion and demo accounts (idempotent)."""
import secrets
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..accounts import registration
from ..database import writing
from ..discussion import posting, reactions
from ..discussion.posting import Limits
from ..extensions import db
from ..models import Article, Comment, Role, Status, User
from ..moderation import decisions
from ..timeutil import utcnow
from .story import read_demo_article

DEFAULT_URL = "http://127.0.0.1:5000/"

# Printed on the console: these accounts exist to be tried by hand.
ACCOUNTS = (
    ("lecteur", "lecteur-demo-2026", Role.READER, "Lecteur"),
    ("moderatrice", "moderatrice-demo-2026", Role.MODERATOR, "Modératrice"),
    ("admin-demo", "admin-demo-2026", Role.ADMIN, "Administratrice"),
)
# The voices of the sample discussion; their passwords are random (nobody logs in as them).
SAMPLE_AUTHORS = (("camille", "Camille D."), ("julien_m", "Julien M."),
                  ("ines", "Inès"), ("sam_k", "Sam K."))

# (author, body, parent index in this list or None, hours ago, voters up)
THREAD = (
    ("camille", "Trois départs d'un coup, ça ressemble plus à un désaccord stratégique qu'à une simple "
                "opportunité. Quelqu'un sait ce qui s'est passé ?", None, 30, ("julien_m", "ines")),
    ("julien_m", "D'après Fidji Simo, ça se préparait « depuis plusieurs semaines ». Difficile de parler "
                 "de surprise.", 0, 29, ("camille",)),
    ("camille", "Justement : *plusieurs semaines*, pendant que Zoph était encore CTO. C'est ça qui "
                "interroge.", 1, 27, ()),
    ("sam_k", "For what it's worth, this happens all the time in the Valley: people boomerang back "
              "when the compute is there.", 2, 20, ("julien_m",)),
    ("ines", "Soumith Chintala comme CTO, c'est plutôt une bonne nouvelle pour l'open source, non ?",
     0, 26, ("camille", "sam_k")),
    ("sam_k", "Interesting that the article dwells on **neural architecture search**. Most labs moved "
              "away from NAS once scaling laws took over.", None, 22, ("ines",)),
    ("julien_m", "Pas tout à fait : la recherche d'architecture revient sous d'autres formes "
                 "(*mixture of experts*, routage appris…).", 5, 21, ("sam_k",)),
    ("ines", "Le dernier paragraphe résume l'enjeu :\n\n> la concentration de l'expertise au sein de "
             "quelques organisations clés\n\nC'est le vrai sujet, bien plus que les personnes.",
     None, 18, ("camille", "julien_m", "sam_k")),
)


def _user(username: str, password: str, role: Role, display_name: str) -> tuple[User, bool]:
    """The account ``username``, created when missing (an existing one is left exactly as it is)."""
    existing = db.session.scalar(select(User).where(User.username_key == registration.username_key(username)))
    if existing is not None:
        return existing, False
    # ".example" (RFC 2606): never delivered, yet accepted by the e-mail check registration makes.
    user = registration.register(username, f"{username}@demo.causerie.example", password, display_name,
                             current_app.config["PASSWORD_HASH_METHOD"], role=role, verified=True)
    return user, True


def _article(story: dict, url: str) -> tuple[Article, bool]:
    article = db.session.scalar(select(Article).where(Article.key == story["key"]))
    if article is not None:
        article.url = url  # served elsewhere now (`make run PORT=8080`): the widget must follow
        return article, False
    article = Article(key=story["key"], title=story["title"], url=url,
                      created_at=utcnow() - timedelta(days=2))
    db.session.add(article)
    db.session.flush()
    return article, True


def _sample_thread(article: Article, authors: dict[str, User], admin: User) -> int:
    """Post the sample discussion unless its authors already wrote on this article."""
    ids = [user.id for user in authors.values()]
    already = db.session.scalar(select(func.count(Comment.id)).where(
        Comment.article_id == article.id, Comment.author_id.in_(ids)))
    if already:
        return 0
    limits = Limits(max_length=current_app.config["MAX_COMMENT_LENGTH"],
                    max_depth=current_app.config["MAX_DEPTH"])
    posted: list[Comment] = []
    for author, body, parent, hours_ago, voters in THREAD:
        parent_id = posted[parent].id if parent is not None else None
        comment = posting.post_comment(article, authors[author], body, limits, parent_id=parent_id)
        if comment.status != Status.APPROVED:
            # Premoderation is on: the demo content is vouched for by the demo administrator.
            decisions.decide(comment, "approve", admin, "demo content")
        comment.created_at = comment.decided_at = utcnow() - timedelta(hours=hours_ago)
        db.session.flush()
        for voter in voters:
            reactions.vote(comment.id, authors[voter], 1)
        posted.append(comment)
    return len(posted)


@click.command("demo")
@click.option("--url", default=DEFAULT_URL, show_default=True,
              help="Address of the demo article page (where `flask run` serves it).")
@with_appcontext
@writing()  # one transaction: the accounts, the article and its thread
def demo(url: str):
    """Load the demo article, a sample discussion and demo accounts (running it again changes nothing)."""
    story = read_demo_article()
    people = {}
    created = []
    for username, password, role, name in ACCOUNTS:
        people[username], new = _user(username, password, role, name)
        if new:
            created.append(username)
    authors = {}
    for username, name in SAMPLE_AUTHORS:
        authors[username], _ = _user(username, secrets.token_urlsafe(18), Role.READER, name)
    article, new_article = _article(story, url)
    count = _sample_thread(article, authors, people["admin-demo"])
    db.session.commit()

    click.echo(f"Demo article: {article.url}  (key {article.key})"
               + ("" if new_article else " - already there"))
    click.echo(f"Sample comments: {count} added" if count else "Sample comments: already there")
    click.echo("Demo accounts (log in inside the discussion, or at /login):")
    for username, password, role, _ in ACCOUNTS:
        state = "created" if username in created else "already there, password unchanged"
        click.echo(f"  {role.value:<10} {username:<12} password: {password}   ({state})")
