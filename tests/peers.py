"""The real peers the suite takes from the system (Debian packages, a PostgreSQL server).

Without one, its tests are skipped with a warning that says so; on CI,
where scripts/setup-system installs them, they fail instead.
"""

import os
import shutil
import warnings

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
