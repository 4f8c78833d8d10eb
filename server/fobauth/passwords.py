"""Confirmation and login passwords, stored only as argon2id hashes."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_LENGTH = 1024  # longer input is refused before hashing it

_hasher = PasswordHasher()


def hash_password(password, hasher=_hasher):
    return hasher.hash(password)


def check_password(stored_hash, password, hasher=_hasher):
    """True when ``password`` matches; never raises for a wrong or odd password."""
    if not isinstance(password, str) or not password or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
