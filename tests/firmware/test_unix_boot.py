"""The real main.py on the MicroPython unix port, at a fixed heap, on littlefs: failures never reach a REPL.

The unix port's REPL is what a board's is to main.py: tools/mpvm/unixport.py
opens it when main.py raises or returns, and a SystemExit (the reset where
there is no machine.reset) ends the process with status 64.
"""

import pytest
from flashimage import FAILURES, flash_unix_firmware, inject, store_record

from mpvm import UnixBoard, make_image

HEAP = 256 * 1024
HALTED = b"failed to start 3 times in a row; halted"
SOFT_RESET = 64


def _image(tmp_path, sealed, failure):
    flash = tmp_path / "flash"
    flash_unix_firmware(flash)
    if sealed is not None:
        store_record(flash, sealed=sealed)
    if failure:
        inject(flash, failure)
    image = tmp_path / "flash.img"
    make_image(image, [(flash, "/")])
    return image


@pytest.mark.parametrize("failure", FAILURES)
def test_a_sealed_fob_that_cannot_start_resets_then_halts_without_a_prompt(tmp_path, failure):
    board = UnixBoard(_image(tmp_path, True, failure), HEAP)
    try:
        for _ in range(2):
            board.boot().send(b"\r\n")
            assert board.wait_reset() == SOFT_RESET, board.output
            assert b">>>" not in board.output
        board.boot()
        assert board.read_until(HALTED), board.output
        board.send(b"\r\nprint(open('/data/seed.rec','rb').read())\r\n")
        assert not board.read_until(b">>>", timeout=1)
        assert board.process.poll() is None  # halted, not ended
    finally:
        board.power_off()


def test_the_same_failure_on_a_blank_fob_opens_the_repl(tmp_path):
    board = UnixBoard(_image(tmp_path, None, "driver exception"), HEAP)
    try:
        board.boot().send(b"\r\nprint(6 * 7)\r\n")
        assert board.read_until(b">>>") and board.read_until(b"42"), board.output
    finally:
        board.power_off()
