"""MicroPython's own ssd1306 driver over the modelled I2C: what reaches the panel is the framebuffer.

The driver is the published file (PyPI micropython-ssd1306 0.3, pinned by SHA-256 in
scripts/fetch-ssd1306), not a stand-in; the SSD1306 model parses its commands at register level.
"""

from modelfob import code_frame, message_frame

from fobsim.models import image

PINNED = "d00cae1ff680e6ae504e258e700f002874b0d924b1a604253b6ea63144b58289"  # the archive's SHA-256


def test_the_driver_is_the_pinned_published_file():
    source = (image.ROOT / "scripts" / "fetch-ssd1306").read_text()
    assert PINNED in source
    assert image.SSD1306.is_file(), "run make setup"
    assert b"class SSD1306_I2C(SSD1306)" in image.SSD1306.read_bytes()


def test_the_drivers_init_sequence_switches_the_panel_on(make_fob):
    fob = make_fob("rp2-pico-ssd1306")
    fob.run_until(1)
    assert fob.display.on and fob.display.charge_pump  # 0x8D 0x14, then 0xAF
    assert fob.display.columns == (0, 127) and fob.display.pages == (0, 3)  # show(): 0x21 0 127, 0x22 0 3


def test_the_bytes_on_the_bus_are_the_framebuffer_the_firmware_drew(make_fob):
    fob = make_fob("esp32c3-ssd1306")
    fob.run_until(3)
    shown = fob.screens()
    assert shown[0][1] == code_frame(fob, shown[0][0])  # the panel's GDDRAM, written only over I2C
    assert fob.machine.bus.bytes_moved > 3 * 512  # every redraw is a full 512-byte transfer


def test_the_panel_goes_dark_with_the_display_timeout(make_fob):
    fob = make_fob("esp32c3-ssd1306", ds3231=False)
    fob.run_until(40)
    assert fob.screens()[-1][1] == message_frame("CLOCK")
    assert not fob.display.on  # 0xAE sent by poweroff() before the deep sleep
