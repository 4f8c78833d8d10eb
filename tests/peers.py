"""The real peers the suite takes from the system (Debian packages, a PostgreSQL server) or that
`make setup` installs beside it (privacyIDEA in .peers/, by scripts/setup-privacyidea).

Without one, its tests are skipped with a warning that says so; on CI,
where scripts/setup-system installs them, they fail instead.
"""

import os
import shutil
import warnings
from pathlib import Path

import pytest


def missing(message):
    """Skip loudly, or fail when $CI is set."""
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must run it (scripts/setup-system installs it)")
    warnings.warn(message + ": SKIPPED", stacklevel=3)
    pytest.skip(message)


def require(tool, package):
    """The path of ``tool`` from Debian package ``package``."""
    path = shutil.which(tool)
    if path is None:
        missing("%s is not installed (Debian package %s)" % (tool, package))
    return path


PRIVACYIDEA_VERSION = "3.14"  # as scripts/setup-privacyidea installs it


def privacyidea():
    """The .peers/privacyidea directory: its virtualenv (venv/) and template instance (template/)."""
    root = Path(__file__).resolve().parent.parent / ".peers" / "privacyidea"
    if not (root / (".installed-" + PRIVACYIDEA_VERSION)).exists():
        missing("privacyIDEA %s is not installed (scripts/setup-privacyidea, run by make setup)" % PRIVACYIDEA_VERSION)
    return root
