"""Getting back into an account and proving an address: password reset links, password changes and
e-mail verification links (the tokens are ``signed_links``; the mail goes through the outbox).

A reset token is bound to the user, to a fingerprint of their password hash (any password change
kills older links) and to their address; it lives an hour and works once. A verification token is
bound to the address being verified (a later change of address kills it); it lives 7 days and works
once. Every refusal of a token is the same ``400 bad_request``: the caller learns nothing about why.
"""
from datetime import timedelta

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import writing
from ..errors import bad_request, forbidden, validation_error
from ..extensions import db
from ..models import LoginSession, User
from ..notifications import mail
from ..timeutil import utcnow
from . import signed_links
from .passwords import check_password, normalize_password
from .registration import (
    VERIFY_MAX_AGE,
    email_key,
    normalize_email,
    queue_verification,
)
from .sessions import hash_secret
from .tokens import end_all_access

RESET_MAX_AGE = timedelta(hours=1)
BAD_LINK = "This link is invalid, has expired or was already used."


class LinkRefused(Exception):
    """A mailed link that cannot be used (the views show or answer the same 400 for every reason)."""


# -- asking for a reset -----------------------------------------------------------------------------

def account_for_address(address: str) -> User | None:
    """The account a reset request names: the one registered with the address (any case), else the
    single single-sign-on account that the host site gave that address (it may then set a password)."""
    key = email_key(address)
    user = db.session.scalar(select(User).where(User.email_key == key))
    if user is not None:
        return user
    sso = db.session.scalars(select(User).where(User.email_key.is_(None), User.sso_sub.is_not(None),
                                                User.email == address).limit(2)).all()
    return sso[0] if len(sso) == 1 else None


def reset_token(user: User) -> str:
    return signed_links.make("reset", user.id, h=signed_links.fingerprint(user.password_hash),
                             e=email_key(user.email or ""))


def request_reset(address: str) -> bool:
    """Queue a reset link for the account with ``address`` (422 when it is no address). The message is
    written whether or not an account has the address (discarded when none has), so both take as long.
    Returns whether one was queued (for tests and logs; never for the caller's answer)."""
    try:
        address = normalize_email(address)
    except ValueError as exc:
        if "@" not in address.strip("@") or len(address) > 254:
            raise validation_error({"email": str(exc)}) from None
        # Shaped like an address but one we never store (a reserved domain...): no account has it,
        # and the answer is the same as for any other address without an account.
        address = None
    user = account_for_address(address) if address else None
    token = reset_token(user) if user is not None else signed_links.make("reset", 0, h="", e="")
    payload = mail.compose("reset", to=user.email if user else "nobody@example.invalid",
                           language=user.language if user else "en",
                           link=mail.public_link("/reset", token=token),
                           username=user.username if user else "", minutes=60)
    if user is None:
        return False
    with writing():
        mail.queue("reset", payload, user.id)
    return True


# -- reading links ----------------------------------------------------------------------------------

def _claims(purpose: str, token: str, max_age, still_valid) -> tuple[dict, User]:
    """The claims and the user of a valid ``purpose`` link that ``still_valid(claims, user)``; LinkRefused."""
    try:
        claims = signed_links.read(purpose, token, max_age)
    except signed_links.BadLink:
        raise LinkRefused() from None
    user = db.session.get(User, claims["u"])
    if user is None or not still_valid(claims, user):
        raise LinkRefused()
    return claims, user


def _reset_claims(token: str) -> tuple[dict, User]:
    # Any password change since (h), or a new address (e), kills the link.
    return _claims("reset", token, RESET_MAX_AGE, lambda claims, user: (
        claims.get("h") == signed_links.fingerprint(user.password_hash)
        and claims.get("e") == email_key(user.email or "")))


def _verify_claims(token: str) -> tuple[dict, User]:
    return _claims("verify", token, VERIFY_MAX_AGE, lambda claims, user: (
        bool(user.email) and claims.get("e") == email_key(user.email)))


def check_reset_link(token: str) -> User:
    """The user a reset link is for, while it can still be used (it is not used up here); LinkRefused."""
    claims, user = _reset_claims(token)
    if signed_links.is_used(claims, "reset"):
        raise LinkRefused()
    return user


def check_verify_link(token: str) -> User:
    """The user a verification link is for, while it can still be used; LinkRefused."""
    claims, user = _verify_claims(token)
    if signed_links.is_used(claims, "verify"):
        raise LinkRefused()
    return user


def _use(claims: dict, purpose: str, valid_for: timedelta) -> None:
    try:
        signed_links.use_once(claims, purpose, valid_for)
    except signed_links.BadLink:
        raise LinkRefused() from None


# -- acting on links --------------------------------------------------------------------------------

def _hash(password: str, method: str) -> str:
    """The new password's hash: slow on purpose, so computed before the write lock is taken."""
    return generate_password_hash(normalize_password(password), method=method)


def _queue_password_changed(user: User) -> None:
    if user.email:
        payload = mail.compose("password_changed", to=user.email, language=user.language,
                               username=user.username, link=mail.public_link("/reset"))
        mail.queue("password_changed", payload, user.id)


def reset_password(token: str, password: str, hash_method: str) -> User:
    """Set a new password through a reset link: the link is used up, the address counts as verified
    (its inbox was read), and every session and API token of the user ends. LinkRefused; 422."""
    claims, user = _reset_claims(token)
    if reason := check_password(password, user.username, user.email or ""):
        raise validation_error({"password": reason})
    new_hash = _hash(password, hash_method)
    with writing():
        _use(claims, "reset", RESET_MAX_AGE)
        user.password_hash = new_hash
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        end_all_access(user)
        _queue_password_changed(user)
        db.session.flush()
    return user


def verify_email(token: str) -> User:
    """Mark the address a verification link was sent to as verified; LinkRefused."""
    claims, user = _verify_claims(token)
    with writing():
        _use(claims, "verify", VERIFY_MAX_AGE)
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        db.session.flush()
    return user


# -- logged in --------------------------------------------------------------------------------------

def change_password(user: User, current: str, password: str, hash_method: str,
                    keep_session: str | None) -> None:
    """Change the password of a logged-in user who knows it (403 otherwise; 422 for a refused new
    one). Every login session but ``keep_session`` (the caller's) ends; API tokens are kept."""
    if user.password_hash is None or not check_password_hash(user.password_hash, normalize_password(current)):
        raise forbidden("The current password is wrong.")
    if reason := check_password(password, user.username, user.email or ""):
        raise validation_error({"password": reason})
    new_hash = _hash(password, hash_method)
    with writing():
        user.password_hash = new_hash
        ending = delete(LoginSession).where(LoginSession.user_id == user.id)
        if keep_session:
            ending = ending.where(LoginSession.key_hash != hash_secret(keep_session))
        db.session.execute(ending)
        _queue_password_changed(user)
        db.session.flush()


def resend_verification(user: User) -> bool:
    """Mail the verification link again; nothing when the address is verified already (or none)."""
    if user.email_verified or not user.email:
        return False
    with writing():
        queue_verification(user)
    return True


def bad_link_error():
    return bad_request(BAD_LINK)
