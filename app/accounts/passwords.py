"""Password rules and hashing (NFKC-normalised, scrypt by default)."""
import unicodedata

from werkzeug.security import generate_password_hash

from ..models import User

MIN_PASSWORD = 10


MAX_PASSWORD = 1024


COMMON_PASSWORDS = {
    "password", "password1", "password12", "password123", "1234567890", "12345678910", "qwertyuiop",
    "iloveyou12", "letmein123", "passw0rd12", "administrator", "0123456789", "1q2w3e4r5t",
    "qwerty1234", "abcdefghij", "aaaaaaaaaa", "welcome123", "changeme12", "football12",
}


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, username: str = "", email: str = "") -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    lowered = password.casefold()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 3:
        return "is too common; choose a less guessable password"
    if lowered in {username.casefold(), email.casefold(), email.casefold().split("@")[0]}:
        return "must not be your username or e-mail address"
    return None


def set_password(user: User, password: str, method: str) -> None:
    user.password_hash = generate_password_hash(normalize_password(password), method=method)


