"""Writing a file the user named, without ever losing a file they need.

Every `fob` command that writes a user-given path goes through here:

- an existing file is replaced only with ``force`` (the commands' --force);
- only a regular file is ever replaced: a directory, device, fifo or
  socket is refused, and so is a symbolic link (it would point elsewhere);
- the files the command is using (the inventory, its key, a password or
  PSK file) are never replaced, not even with ``force``;
- the data goes to a temporary file in the same directory, flushed, then
  moved over the name in one step, so the name holds the old file or the
  whole new one; secrets are created mode 0600;
- the data reaches the disk (fsync) before the move, except for what is
  remade at once anyway: `fob sim --screenshot` writes every frame, and an
  fsync a frame nearly doubled each write (median 0.47 instead of 0.26 ms,
  measured on the development machine) for a picture the next frame replaces.
"""

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class OutputError(Exception):
    """The output path cannot be written safely; the message says why."""


def check(path, force=False, protected=None):
    """Raise OutputError unless ``path`` may be (over)written; returns it as a Path.

    ``protected`` maps paths the command uses to what they are, e.g.
    ``{inventory.path: "the inventory"}``.
    """
    if not str(path):
        raise OutputError("no output file named")
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise OutputError("%s: no directory %s" % (path, parent))
    for used, what in (protected or {}).items():
        if _same_file(path, used):
            raise OutputError("%s is %s in use: name another output file" % (path, what))
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as error:
        raise OutputError("%s: %s" % (path, error.strerror)) from None
    if stat.S_ISLNK(status.st_mode):
        raise OutputError("%s is a symbolic link: name the file itself" % path)
    if not stat.S_ISREG(status.st_mode):
        raise OutputError("%s is %s, not a regular file" % (path, _kind(status.st_mode)))
    if not force:
        raise OutputError("%s already exists: pass --force to replace it" % path)
    return path


def write(path, data, force=False, protected=None, private=True, durable=True):
    """Write ``data`` (bytes) to ``path`` whole or not at all, after check(); ``private`` means mode 0600,
    ``durable`` on the disk before it takes the name (an fsync)."""
    path = check(path, force, protected)
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".%s." % path.name, suffix=".tmp")
    except OSError as error:
        raise OutputError("%s: %s" % (path.parent, error.strerror)) from None
    try:
        with os.fdopen(fd, "wb") as out:
            if not private:
                os.fchmod(out.fileno(), 0o666 & ~_umask())
            out.write(data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        _move(temporary, path, force)
    except OSError as error:
        raise OutputError("%s: %s" % (path, error.strerror)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _move(temporary, path, force):
    """Put ``temporary`` at ``path``: a hard link never replaces a file that appeared meanwhile."""
    try:
        os.link(temporary, path)
        return
    except FileExistsError:
        if not force:
            raise OutputError("%s already exists: pass --force to replace it" % path) from None
    except OSError:
        pass  # a file system without hard links
    check(path, force)  # once more, just before: nothing but a regular file is ever replaced
    os.replace(temporary, path)


def _same_file(path, used):
    try:
        return os.path.samefile(path, used)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(path) == os.path.realpath(used)


def _kind(mode):
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
