"""Token seeds encrypted at rest with AES-256-GCM.

The key comes from the environment variable ``FOB_SEED_KEY`` or a key file
(base64 of 32 random bytes).  Each seed is sealed with a fresh nonce and
the token's serial number as associated data, so a ciphertext copied onto
another token's row does not open.
"""

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fobauth.settings import SEED_KEY_ENV

KEY_ENV = SEED_KEY_ENV
KEY_BYTES = 32
NONCE_BYTES = 12


class SeedKeyError(Exception):
    """The seed encryption key is missing, malformed or does not open a seed."""


def _parse_key(text, origin):
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SeedKeyError("%s is not base64" % origin) from None
    if len(key) != KEY_BYTES:
        raise SeedKeyError("%s must hold %d bytes, base64-encoded" % (origin, KEY_BYTES))
    return key


def new_key_text():
    """A fresh random key, as written to a key file."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n"


def create_key_file(path):
    """Write a fresh key to ``path`` (mode 0600); refuses to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(new_key_text())


def load_key(path=None, environ=os.environ):
    """The key from ``FOB_SEED_KEY`` if set, else from the file at ``path``."""
    if environ.get(KEY_ENV):
        return _parse_key(environ[KEY_ENV], KEY_ENV)
    if path is None:
        raise SeedKeyError("no seed key: set %s or give a key file" % KEY_ENV)
    try:
        with open(path) as source:
            return _parse_key(source.read(), "the seed key file %s" % path)
    except OSError as error:
        raise SeedKeyError("cannot read the seed key file %s: %s" % (path, error.strerror)) from None


class SeedBox:
    """Seals and opens seeds; holds the key without ever showing it."""

    def __init__(self, key):
        if len(key) != KEY_BYTES:
            raise SeedKeyError("the seed key must be %d bytes" % KEY_BYTES)
        self._aead = AESGCM(bytes(key))

    def __repr__(self):
        return "<SeedBox>"

    def seal(self, seed, serial):
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, bytes(seed), serial.encode())

    def open(self, sealed, serial):
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], serial.encode())
        except InvalidTag:
            raise SeedKeyError("the seed of token %s does not open with this key" % serial) from None
