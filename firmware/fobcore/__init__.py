"""fobcore: the token's shared core, identical on the board, in the simulator and on the host.

MicroPython-clean by rule: no runtime typing, dataclasses or CPython-only syntax.
"""

VERSION = "0.1.0"
