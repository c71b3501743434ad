"""A reader's own settings (``PATCH /me``): display name, e-mail address and the language of their mail.

A new address is unverified until the link mailed to it is opened; the old address is told of the
change (so a hijacked session cannot move the account away unnoticed).
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import writing
from ..discussion.lifecycle import author_shown_differently
from ..errors import conflict, validation_error
from ..extensions import db
from ..models import User
from ..notifications import mail
from ..translations import LANGUAGES
from .registration import (
    clean_display_name,
    email_key,
    lookalikes,
    normalize_email,
    queue_verification,
)

TAKEN = "That e-mail address is already registered."


def _checked(user: User, display_name: str | None, email: str | None,
             language: str | None) -> dict:
    """The cleaned new values (only those given); 422 naming every refused field at once."""
    problems, values = {}, {}
    if display_name is not None:
        try:
            values["display_name"] = clean_display_name(display_name, user.is_moderator)
        except ValueError as exc:
            problems["display_name"] = str(exc)
        else:
            problems.update(lookalikes({"display_name": values["display_name"]},
                                       except_username=user.username))
    if email is not None:
        try:
            values["email"] = normalize_email(email)
        except ValueError as exc:
            problems["email"] = str(exc)
    if language is not None:
        if language in LANGUAGES:
            values["language"] = language
        else:
            problems["language"] = "must be one of " + ", ".join(LANGUAGES)
    if problems:
        raise validation_error(problems)
    return values


def update_profile(user: User, display_name: str | None = None, email: str | None = None,
                   language: str | None = None) -> User:
    """Change what is given of the user's own settings; 422 for refused values, 409 for an address
    another account has."""
    values = _checked(user, display_name, email, language)
    new_email = values.pop("email", None)
    moving = new_email is not None and email_key(new_email) != (user.email_key or "")
    if moving and db.session.scalar(select(User.id).where(User.email_key == email_key(new_email),
                                                          User.id != user.id)):
        raise conflict(TAKEN)
    old_email = user.email
    renamed = "display_name" in values and values["display_name"] != user.display_name
    with writing():
        for field, value in values.items():
            setattr(user, field, value)
        if renamed:  # cached thread pages and feeds show the old name until their threads change
            author_shown_differently(user.id)
        if new_email is not None:
            user.email = new_email  # the same address in another case stays verified
        if moving:
            user.email_key = email_key(new_email)
            user.email_verified_at = None
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            raise conflict(TAKEN) from None
        if moving:
            queue_verification(user)
            if old_email:
                payload = mail.compose("email_changed", to=old_email, language=user.language,
                                       username=user.username, new_email=new_email,
                                       link=mail.public_link("/reset"))
                mail.queue("email_changed", payload, user.id)
    return user
