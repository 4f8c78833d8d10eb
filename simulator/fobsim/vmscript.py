"""Where the MicroPython engine finds Node, its board script and the official MicroPython npm package.

In a checkout, tools/mpvm/board.mjs and the checkout's node_modules (`make
setup`).  In an installed fobkit (pip, pipx, a wheel), board.mjs is package
data (fobsim/mpvm/) and the npm package lives in the user's cache
directory; Node resolves a script's imports from the script's own
directory upwards, so the script and its sibling modules are copied next to
that node_modules.
Nothing is downloaded without being asked: a missing piece is one line
saying how to get it.  ``FOBKIT_NODE_MODULES`` names another directory
holding node_modules/.
"""

import filecmp
import os
import shutil
from pathlib import Path

import platformdirs

NPM_PACKAGE = "@micropython/micropython-webassembly-pyscript"
NPM_VERSION = "1.27.0"  # the version package.json pins (a test keeps them equal)
ENV = "FOBKIT_NODE_MODULES"
CHECKOUT = Path(__file__).resolve().parents[2]
_IN_CHECKOUT = CHECKOUT / "tools" / "mpvm" / "board.mjs"
_INSTALLED = Path(__file__).resolve().parent / "mpvm" / "board.mjs"


class MissingNode(Exception):
    """Node or the npm package is not there; the message says how to get it."""


def shipped_script():
    """board.mjs as this fobkit carries it (a checkout's, or the installed package data)."""
    return _IN_CHECKOUT if _IN_CHECKOUT.is_file() else _INSTALLED


def cache_dir():
    return Path(platformdirs.user_cache_dir("fobkit", appauthor=False)) / "mpvm"


def install_command(prefix=None):
    return "npm install --prefix %s %s@%s" % (prefix or cache_dir(), NPM_PACKAGE, NPM_VERSION)


def runnable_script():
    """A board.mjs that Node can run here with the npm package beside it; MissingNode says what is missing."""
    if shutil.which("node") is None:
        raise MissingNode("the MicroPython engine needs Node.js (https://nodejs.org/, 18 or later) on PATH")
    script = shipped_script()
    if not script.is_file():
        raise MissingNode("this fobkit carries no MicroPython board script (%s): reinstall fobkit" % script)
    if os.environ.get(ENV):
        base = Path(os.environ[ENV])
    elif script == _IN_CHECKOUT and _has_package(CHECKOUT):
        return script
    else:
        base = cache_dir()
    if not _has_package(base):
        raise MissingNode(
            "the MicroPython engine needs the npm package %s %s: %s (in a checkout: make setup)"
            % (NPM_PACKAGE, NPM_VERSION, install_command(base))
        )
    for piece in script.parent.glob("*.mjs"):  # board.mjs and the modules it imports
        copy = base / piece.name
        if not (copy.is_file() and filecmp.cmp(piece, copy, shallow=False)):
            shutil.copyfile(piece, copy)
    return base / script.name


def _has_package(base):
    return (Path(base) / "node_modules" / NPM_PACKAGE / "package.json").is_file()
