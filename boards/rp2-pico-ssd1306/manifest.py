# The production image for this board: MicroPython's own port manifest, then the fob frozen in.
#
#   mpbuild build <BOARD> --manifest boards/<name>/manifest.py    (see docs/firmware.md)
#
# Everything `fob flash` installs (boards/<name>/package.json, host/fobhost/flashing.py) and
# nothing else; tests/firmware/test_manifests.py keeps the two the same.  A frozen main.py
# runs in place of any /main.py on the filesystem (shared/runtime/pyexec.c,
# pyexec_file_if_exists looks for a frozen one first).
include("$(PORT_DIR)/boards/manifest.py")

package("fobcore", base_path="../../firmware")
module("main.py", base_path="../../firmware")
module("board.py")
module("latch.py")
module("ds3231.py", base_path="../drivers")
module("oledfob.py", base_path="../drivers")
module("usbserial.py", base_path="../drivers")
require("ssd1306", version="0.1.0")  # pinned, as in package.json
