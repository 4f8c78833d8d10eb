"""The fob's entry point on the board (the firmware issue fills this in)."""

import fobcore

print("fobkit firmware", fobcore.VERSION)
