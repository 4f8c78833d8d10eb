"""The firmware image as a board holds it: the real modules, imported against the model modules.

Each boot gets fresh modules (RAM does not survive a reset): fobcore, the
board file and its drivers, micropython-lib's ``ssd1306`` and ``main.py``,
with ``machine``, ``time``, ``asyncio``, ``os``, ``sys``... taken from the
models.  The host's own modules of those names are put back afterwards.
Paths on the board's filesystem (``/data/seed.rec``) live in a directory.
"""

import builtins
import os as _os
import sys
import types
from pathlib import Path

from fobhost.flashing import BOARDS_DIR, FOBCORE_DIR

ROOT = Path(__file__).resolve().parents[3]  # a checkout: where make setup puts the driver
SSD1306 = ROOT / ".venv" / "micropython" / "ssd1306.py"  # scripts/fetch-ssd1306 (make setup)


class MissingDriver(RuntimeError):
    pass


def sources(board):
    """Module name -> source file, as `fob flash` lays them out (/lib)."""
    found = {"fobcore": FOBCORE_DIR / "__init__.py"}
    for path in sorted(FOBCORE_DIR.glob("*.py")):
        if path.name != "__init__.py":
            found["fobcore." + path.stem] = path
    for path in (BOARDS_DIR / "drivers").glob("*.py"):
        found[path.stem] = path
    found["board"] = BOARDS_DIR / board / "board.py"
    if (BOARDS_DIR / board / "latch.py").is_file():
        found["latch"] = BOARDS_DIR / board / "latch.py"
    if not SSD1306.is_file():
        raise MissingDriver(
            "the board models need %s: run `make setup` in a checkout (scripts/fetch-ssd1306)" % SSD1306
        )
    found["ssd1306"] = SSD1306
    return found


class Flash:
    """The board's filesystem in a host directory: absolute board paths map below ``root``."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.fail_after = None  # brown-out: bytes that may still be written before the power goes
        self.urandom = _os.urandom  # what the port's os.urandom gives (a test may make it weak)

    def path(self, p):
        p = str(p)
        return str(self.root / p.lstrip("/")) if p.startswith("/") else p

    def os_module(self, on_power_loss):
        flash = self
        module = types.ModuleType("os")
        module.mkdir = lambda p: _os.mkdir(flash.path(p))
        module.remove = lambda p: _os.remove(flash.path(p))

        def rename(a, b):
            if flash.fail_after == 0:  # the bytes went out; the power fails before the rename
                flash.fail_after = None
                flash._on_power_loss()
            _os.replace(flash.path(a), flash.path(b))

        module.rename = rename
        module.listdir = lambda p="/": _os.listdir(flash.path(p))
        module.sync = lambda: None
        # Hardware randomness on both ports (v1.27.0 mp_os_urandom: ports/rp2/modos.c from the ring
        # oscillator, rosc_random_u8; ports/esp32/modos.c from esp_random); the host's stands in.
        module.urandom = lambda n: flash.urandom(n)

        def stat(p):
            s = _os.stat(flash.path(p))
            return (0o100000 if _os.path.isfile(flash.path(p)) else 0o040000, 0, 0, 0, 0, 0, s.st_size, 0, 0, 0)

        module.stat = stat
        module.statvfs = lambda p: (4096, 4096, 352, 208, 208, 0, 0, 0, 0, 255)
        flash._on_power_loss = on_power_loss
        return module

    def open(self, p, mode="r", *args, **kwargs):
        f = builtins.open(self.path(p), mode, *args, **kwargs)
        return _BrownOut(self, f) if "w" in mode or "a" in mode else f


class _BrownOut:
    """A file being written; if the power fails mid-write, the bytes after the failure never land."""

    def __init__(self, flash, f):
        self.flash, self.f = flash, f

    def write(self, data):
        budget = self.flash.fail_after
        if budget is not None and len(data) > budget:
            self.f.write(bytes(data[:budget]))
            self.f.close()
            self.flash.fail_after = None
            self.flash._on_power_loss()
        if budget is not None:
            self.flash.fail_after = budget - len(data)
        return self.f.write(data)

    def close(self):
        self.f.close()

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


class Image:
    """One boot's modules; ``run(path)`` executes a script (main.py) against them."""

    def __init__(self, board, models, flash, missing=()):
        self.files = {name: path for name, path in sources(board).items() if name not in missing}
        self.missing = set(missing)  # modules a half-copied firmware lacks: importing one fails
        self.models = models  # name -> module object (machine, time, asyncio, os, sys, ...)
        self.flash = flash
        self.modules = {}

    def _load(self, name):
        if name in self.modules:
            return self.modules[name]
        path = self.files[name]
        module = types.ModuleType(name)
        module.__file__ = str(path)
        if name == "fobcore":
            module.__path__ = [str(path.parent)]
        module.open = self.flash.open  # the builtin open(), on the board's filesystem
        self.modules[name] = module
        sys.modules[name] = module
        exec(compile(path.read_text(), str(path), "exec"), module.__dict__)  # noqa: S102 -- the firmware's own files
        if "." in name:
            setattr(self._load(name.rsplit(".", 1)[0]), name.rsplit(".", 1)[1], module)
        return module

    def run(self, path, chip=lambda run: run()):
        """Run a script from the image as MicroPython runs main.py, through ``chip(run)`` (e.g. on a thread of
        its own); the host's modules are restored after, here."""
        names = set(self.models) | set(self.files)
        saved = {n: sys.modules.get(n) for n in names}
        saved.update({n: m for n, m in sys.modules.items() if n.startswith("fobcore.")})
        finder = _Finder(self)
        try:
            for name in names:
                sys.modules.pop(name, None)
            for name in list(sys.modules):
                if name.startswith("fobcore."):
                    del sys.modules[name]
            sys.modules.update(self.models)
            sys.modules.update(self.modules)
            sys.meta_path.insert(0, finder)
            namespace = {"__name__": "__main__", "open": self.flash.open}
            code = compile(Path(path).read_text(), str(path), "exec")
            chip(lambda: exec(code, namespace))  # noqa: S102 -- main.py, as the board runs it
        finally:
            sys.meta_path.remove(finder)
            for name in list(sys.modules):
                if name in names or name.startswith("fobcore."):
                    del sys.modules[name]
            sys.modules.update({n: m for n, m in saved.items() if m is not None})


class _Finder:
    """Imports of the image's own modules come from its files, nothing from the host."""

    def __init__(self, image):
        self.image = image

    def find_spec(self, name, path=None, target=None):
        if name in self.image.missing:
            raise ImportError("no module named '%s'" % name)  # not the host's copy of it either
        if name in self.image.files:
            import importlib.util

            return importlib.util.spec_from_loader(name, _Loader(self.image))
        return None


class _Loader:
    def __init__(self, image):
        self.image = image

    def create_module(self, spec):
        return self.image._load(spec.name)

    def exec_module(self, module):
        pass
