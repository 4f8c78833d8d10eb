"""Errors that `fob` reports on one line with exit status 2."""


class UsageError(Exception):
    """A bad argument or input, said in one line without secrets."""
