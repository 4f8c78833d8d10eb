"""Secrets a test's services saw (passwords, hashes, seeds), and a search for them in log text."""

import base64
import itertools
import re

import pyotp
from argon2 import PasswordHasher

from fobauth.seedbox import SeedBox


class Secrets:
    """Every password, password hash and seed the services of one test saw, to look for in its logs."""

    passwords = set()
    seeds = set()


class RecordingHasher(PasswordHasher):
    """argon2id that notes each password it hashes and each hash it makes in Secrets."""

    def hash(self, password, *, salt=None):
        digest = super().hash(password, salt=salt)
        Secrets.passwords.update((password, digest))
        return digest


class RecordingSeedBox(SeedBox):
    """A SeedBox that notes each seed it seals in Secrets."""

    def seal(self, secret, serial):
        Secrets.seeds.add(bytes(secret))
        return super().seal(secret, serial)


def leaked_secrets(text, times):
    """The kinds of secret found in ``text``: a seed (hex, base32 or base64), a code a seed showed
    near ``times`` (6 or 8 digits, steps of 30 or 60 s), a password or an argon2 hash."""
    found = set()
    if "$argon2" in text or any(p in text for p in Secrets.passwords):
        found.add("password or hash")
    for seed in Secrets.seeds:
        if any(form in text for form in (seed.hex(), base64.b32encode(seed).decode(), base64.b64encode(seed).decode())):
            found.add("seed")
        numbers = set(re.findall(r"(?<!\d)(\d{6}|\d{8})(?!\d)", text))
        for digits, period in itertools.product((6, 8), (30, 60)):
            totp = pyotp.TOTP(base64.b32encode(seed).decode(), digits=digits, interval=period)
            codes = {totp.at(t + step * period) for t in times for step in range(-10, 11)}
            if numbers & codes:
                found.add("code")
    return found
