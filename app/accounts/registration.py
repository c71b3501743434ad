"""Creating accounts: usernames, display names, uniqueness."""
import re
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..database import writing
from ..errors import conflict, validation_error
from ..extensions import db
from ..models import Role, User, is_staff_role
from ..notifications import mail
from ..text import clean_line
from ..timeutil import utcnow
from ..translations import LANGUAGES
from . import identity_bans, names, signed_links
from .passwords import check_password, set_password

USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,32}")


RESERVED_USERNAMES = {
    "admin", "administrator", "moderator", "mod", "system", "root", "support", "staff", "null",
    "undefined", "none", "deleted", "anonymous", "me", "api", "login", "logout", "register",
    "causerie", "sso", "owner", "webmaster", "security",
}


def username_key(username: str) -> str:
    return username.casefold()


def email_key(email: str) -> str:
    return email.lower()


def check_username(username: str, staff: bool = False) -> str | None:
    """Why ``username`` cannot be used (``staff``: by a moderator or admin), or None."""
    if not USERNAME_RE.fullmatch(username):
        return "must be 3 to 32 characters from A-Z a-z 0-9 _ . -"
    if username_key(username).strip("._-") in RESERVED_USERNAMES:
        return "is reserved"
    if not any(ch.isalnum() for ch in username):
        return "must contain a letter or a digit"
    if not staff and names.looks_like_staff(username):
        return "looks like a staff name"
    return None


def normalize_email(email: str) -> str:
    """The address as stored (domain lower-cased, IDNA); ValueError saying why it is not one."""
    if len(email) > 254:
        raise ValueError("must be at most 254 characters")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid e-mail address: {exc}") from None


def clean_display_name(name: str, staff: bool = False) -> str:
    """The name as shown (NFC, trimmed); ValueError saying why it cannot be shown."""
    name = clean_line(name)
    if not 1 <= len(name) <= 64:
        raise ValueError("must be 1 to 64 characters")
    if reason := names.display_name_problem(name):
        raise ValueError(reason)
    if not staff and names.looks_like_staff(name):
        raise ValueError("looks like a staff name")
    return name


def lookalikes(fields: dict[str, str], except_username: str | None = None) -> dict[str, str]:
    """The fields whose value looks like another account's username or display name (one query)."""
    skeletons = {field: names.skeleton(value) for field, value in fields.items()}
    wanted = {value for value in skeletons.values() if value}
    if not wanted:
        return {}
    query = select(User.name_skeleton, User.display_skeleton).where(
        or_(User.name_skeleton.in_(wanted), User.display_skeleton.in_(wanted))).limit(20)
    if except_username is not None:  # the very same username is a 409, not a look-alike
        query = query.where(User.username_key != username_key(except_username))
    taken = {value for row in db.session.execute(query) for value in row}
    return {field: "looks too much like another user's name"
            for field, value in skeletons.items() if value and value in taken}


def _refusal(clean, *args) -> str | None:
    """Why ``clean(*args)`` refuses its value, or None."""
    try:
        clean(*args)
    except ValueError as exc:
        return str(exc)
    return None


def registration_problems(username: str | None, email: str | None, password: str | None,
                          display_name: str | None, staff: bool = False) -> dict[str, str]:
    """Every reason the fields cannot make an account, by field, all found at once (None: not given)."""
    username = username.strip() if username is not None else None
    problems = {}
    if username is not None and (reason := check_username(username, staff)):
        problems["username"] = reason
    if email is not None and (reason := _refusal(normalize_email, email)):
        problems["email"] = reason
    if password is not None and (reason := check_password(password, username or "", email or "")):
        problems["password"] = reason
    if display_name is not None and (reason := _refusal(clean_display_name, display_name, staff)):
        problems["display_name"] = reason
    names_shown = {field: value for field, value in (("username", username), ("display_name", display_name))
                   if value is not None and field not in problems}
    problems.update(lookalikes(names_shown, except_username=username))
    return problems


def register(username: str, email: str, password: str, display_name: str | None,
             hash_method: str, role: Role = Role.READER, language: str = "en",
             verified: bool = False) -> User:
    """Create an account. Raises 422 naming every invalid field, 409 when the name or e-mail is taken.

    ``verified``: the address is taken as confirmed (an account an operator creates); otherwise a
    verification link is mailed to it, queued in the same transaction as the account.
    """
    username = username.strip()
    staff = is_staff_role(role)
    problems = registration_problems(username, email, password, display_name, staff)
    if language not in LANGUAGES:
        problems["language"] = "must be one of " + ", ".join(LANGUAGES)
    if problems:
        raise validation_error(problems)
    email = normalize_email(email)
    display_name = clean_display_name(display_name, staff) if display_name is not None else username
    taken = db.session.scalar(
        select(User.id).where(
            (User.username_key == username_key(username)) | (User.email_key == email_key(email))
        ).limit(1)
    )
    if taken:
        raise conflict("That username or e-mail address is already registered.")
    user = User(username=username, username_key=username_key(username), email=email,
                email_key=email_key(email), display_name=display_name, role=role, language=language,
                email_verified_at=utcnow() if verified else None)
    set_password(user, password, hash_method)  # slow on purpose: before taking the write lock
    with writing():
        db.session.add(user)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            raise conflict("That username or e-mail address is already registered.") from None
        identity_bans.inherit_ban(user)
        if not verified:
            queue_verification(user)
    return user


VERIFY_MAX_AGE = timedelta(days=7)


def verification_token(user: User) -> str:
    """A link token proving the inbox of ``user``'s current address (bound to it: a later change kills it)."""
    return signed_links.make("verify", user.id, e=email_key(user.email or ""))


def queue_verification(user: User) -> None:
    """Mail ``user`` the link confirming their current address (in the caller's transaction, under its lock)."""
    payload = mail.compose("verify", to=user.email, language=user.language,
                           link=mail.public_link("/verify", token=verification_token(user)),
                           username=user.username, name=user.display_name)
    mail.queue("verify", payload, user.id)


def free_username(wanted: str) -> str:
    """``wanted``, or it with a number: a valid username no one has or looks like."""
    candidate = wanted
    suffix = 1
    while check_username(candidate) or lookalikes({"username": candidate}) or db.session.scalar(
        select(User.id).where(User.username_key == username_key(candidate))
    ):
        suffix += 1
        candidate = f"{wanted[:28]}{suffix}" if suffix < 1000 else f"{wanted[:20]}{secrets.token_hex(4)}"
    return candidate


