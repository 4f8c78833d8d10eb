"""Each real board's manifest.py freezes exactly what `fob flash` installs on that board."""

import pytest
from flashimage import flash_firmware

from fobhost.flashing import SOURCE_ROOT, BoardPackage
from fobsim.models.fob import BOARDS as MODELLED

BOARDS = sorted(p.parent.name for p in (SOURCE_ROOT / "boards").glob("*/manifest.py"))


class Manifest:
    """What a manifest.py declares, read as MicroPython's tools/manifestfile.py reads it."""

    def __init__(self, path):
        self.folder = path.parent
        self.frozen = {}  # module path in the image -> source file
        self.required = []
        self.included = []
        calls = {"include": self.included.append, "package": self.package, "module": self.module}
        calls["require"] = lambda name, version=None, **_: self.required.append((name, version))
        exec(compile(path.read_text(), str(path), "exec"), calls)

    def package(self, name, files=None, base_path="."):
        root = (self.folder / base_path).resolve()
        for source in sorted((root / name).rglob("*.py")):
            self.frozen[str(source.relative_to(root))] = source

    def module(self, name, base_path="."):
        self.frozen[name] = (self.folder / base_path / name).resolve()


def test_the_real_boards_have_manifests_and_models():
    assert BOARDS == ["esp32c3-ssd1306", "rp2-pico-ssd1306"] == sorted(MODELLED)


@pytest.mark.parametrize("board", BOARDS)
def test_a_manifest_freezes_what_fob_flash_installs(board, tmp_path):
    manifest = Manifest(SOURCE_ROOT / "boards" / board / "manifest.py")
    flash_firmware(tmp_path, board)
    installed = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    as_frozen = {name if name == "main.py" else "lib/" + name[:-3] + ".mpy" for name in manifest.frozen}
    assert as_frozen == installed
    package = BoardPackage(board)
    for target, source in package.files:
        assert manifest.frozen[target] == source
    assert manifest.frozen["main.py"] == SOURCE_ROOT / "firmware" / "main.py"
    dependencies = [spec.partition("@")[::2] for spec in package.packages]
    assert [(name, version or None) for name, version in dependencies] == manifest.required
    assert manifest.included == ["$(PORT_DIR)/boards/manifest.py"]  # the port's own modules, asyncio among them
