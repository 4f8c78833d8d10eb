"""Confirmation and login passwords, stored only as argon2id hashes (argon2-cffi's defaults)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fobauth.settings import MAX_PASSWORD_CHARS


def default_hasher():
    return PasswordHasher()


def check_password(hasher, stored_hash, password):
    """True when ``password`` matches; never raises for a wrong or odd password."""
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
