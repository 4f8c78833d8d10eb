"""Typed, stable errors: each refusal has one short code that callers may switch on.

The codes are part of the API (HTTP bodies are ``{"error": code}``) and are
listed in docs/server.md.  Messages never contain a code, seed or password.
"""

import copy
import math


class AuthError(Exception):
    """A refused request.  ``code`` is stable; the message is for humans."""

    code = "error"
    status = 400

    def __init__(self, message=None):
        super().__init__(message or self.__doc__.strip().rstrip("."))


class BadRequest(AuthError):
    """The request is malformed."""

    code = "bad_request"


class BadSerial(AuthError):
    """The serial number must be 8 to 12 digits."""

    code = "bad_serial"


class BadCode(AuthError):
    """The one-time password must be the digits the token shows."""

    code = "bad_code"


class BadPskc(AuthError):
    """The PSKC document cannot be imported."""

    code = "bad_pskc"


class Unauthorized(AuthError):
    """The API key is missing or wrong."""

    code = "unauthorized"
    status = 401


class InvalidCode(AuthError):
    """The one-time password is wrong."""

    code = "invalid_code"
    status = 403


class Replayed(AuthError):
    """This one-time password (or a later one) was already used."""

    code = "replayed"
    status = 403


class Suspended(AuthError):
    """Token use is suspended after too many wrong codes; a master or administrator can lift it."""

    code = "suspended"
    status = 403


class Expired(AuthError):
    """The token has passed its expiry date."""

    code = "expired"
    status = 403


class Forbidden(AuthError):
    """Not allowed for this user."""

    code = "forbidden"
    status = 403


class UnknownUser(AuthError):
    """No such user."""

    code = "unknown_user"
    status = 404


class UnknownToken(AuthError):
    """No token with this serial number."""

    code = "unknown_token"
    status = 404


class NotRegistered(AuthError):
    """The user has no registered token."""

    code = "not_registered"
    status = 409


class AlreadyRegistered(AuthError):
    """The user already has a registered token."""

    code = "already_registered"
    status = 409


class RevokedCooldown(AuthError):
    """The token was revoked recently; registration opens again after the waiting time."""

    code = "revoked_cooldown"
    status = 409


class NotSuspended(AuthError):
    """The user is not suspended."""

    code = "not_suspended"
    status = 409


class UserExists(AuthError):
    """A user with this id exists."""

    code = "user_exists"
    status = 409


class TokenExists(AuthError):
    """A token with this serial number exists."""

    code = "token_exists"
    status = 409


class RateLimited(AuthError):
    """Too many requests; retry later."""

    code = "rate_limited"
    status = 429
    retry_after = None

    @classmethod
    def after(cls, seconds):
        error = cls("too many requests; retry in %d s" % math.ceil(seconds))
        error.retry_after = seconds
        return error


ALL = (
    BadRequest,
    BadSerial,
    BadCode,
    BadPskc,
    Unauthorized,
    InvalidCode,
    Replayed,
    Suspended,
    Expired,
    Forbidden,
    UnknownUser,
    UnknownToken,
    NotRegistered,
    AlreadyRegistered,
    RevokedCooldown,
    NotSuspended,
    UserExists,
    TokenExists,
    RateLimited,
)


def apiece(error, count):
    """``error`` for ``count`` callers, each its own exception (the first ``error`` itself, the others
    copies without its traceback): one object raised by several requests would carry every one's
    frames, and their variables, in its traceback."""
    try:
        return [error, *(copy.copy(error) for _ in range(count - 1))]
    except Exception:  # an exception whose arguments do not rebuild it: shared, rather than none at all
        return [error] * count
