"""Errors that `fob` reports on one line: exit status 2, or 130 for an interruption."""


class UsageError(Exception):
    """A bad argument or input, said in one line without secrets."""


class Interrupted(UsageError):
    """Ctrl-C stopped the command; said in one line with exit status 130."""
