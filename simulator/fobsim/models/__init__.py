"""Board models: the real board files run on simulated hardware that behaves like MicroPython 1.27.

``world`` keeps virtual time and what the battery delivers, ``devices`` the
chips on the I2C bus, ``ports`` the ``machine`` module of the rp2 and esp32
ports (``portmodules`` their ``esp32`` and ``time``), ``scheduler`` a MicroPython-like asyncio over
virtual time, ``fob`` boots the real firmware image on them and ``power``
reads each board's power profile.  Every modelled behaviour names the
MicroPython v1.27.0 source (or datasheet) it follows.
"""
