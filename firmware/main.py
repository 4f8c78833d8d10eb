"""The fob's entry point on a board: the board's driver, the token, the app, for ever.

A sealed fob (or one whose record cannot be read) must never reach a
prompt, whatever fails after power-on.  How MicroPython 1.27 runs this file
(shared/runtime/pyexec.c, parse_compile_execute; ports/rp2/main.c and
ports/esp32/main.c, main): an exception out of main.py is printed and the
REPL follows; so does main.py returning; SystemExit instead goes to
soft_reset_exit, which runs boot.py and main.py again.  Ctrl-C is the
interrupt character from main.py's first statement on, and a Ctrl-C that
arrived is raised only at a jump (py/vm.c, pending_exception_check).

So the first statement is ``try``, Ctrl-C is switched off before any jump,
and every failure (a missing or damaged .mpy, MemoryError, an exception in
the board driver, a KeyboardInterrupt received before the switch) ends in
``finally``: it lets the REPL open only for a fob whose record reads as
blank or unsealed; otherwise it resets (machine.reset; SystemExit where a
port has none).  After MAX_FAILED_BOOTS failed starts in a row it stops
resetting: it shows FAULT for the display time, then powers the board off
as the main loop does (Board.power_off, else deep_sleep); a press starts
it again, with as many tries.  On USB, or when the board driver itself
fails, it idles awake instead (docs/firmware.md).
There is deliberately no boot.py: an exception there skips main.py and
opens the REPL (ports/rp2/main.c, main: main.py runs only if boot.py's
pyexec_file_if_exists returned non-zero).
"""

try:
    FAILED_BOOTS = "/failed_boots"  # failed starts in a row, on the flash; absent while all is well
    MAX_FAILED_BOOTS = 3
    hardware = None  # (no jump yet: these are set before anything can fail)
    import micropython

    micropython.kbd_intr(-1)  # no new Ctrl-C; one already received is raised at the next jump, still in here
    try:
        import latch  # noqa: F401 -- boards/<name>/latch.py holds the power latch, before anything slow
    except ImportError:
        pass  # a board without a power latch

    import asyncio

    import board  # boards/<name>/board.py, installed as /lib/board.py
    from fobcore.app import App
    from fobcore.mainloop import serve

    hardware = board.create()
    app = App(hardware, display_timeout_ms=board.DISPLAY_TIMEOUT_MS)
    try:
        import os

        os.remove(FAILED_BOOTS)  # started: the count begins again (no flash write while there is none)
    except OSError:
        pass
    asyncio.run(serve(app))
finally:
    try:
        from fobcore.board import Board
        from fobcore.record import Store

        record = Store((hardware or Board()).storage_dir()).load()
        may_open_repl = record is None or not record.sealed
    except BaseException:
        may_open_repl = False  # unreadable, or fobcore itself is damaged: treat as sealed
    if not may_open_repl:
        try:
            try:
                with open(FAILED_BOOTS) as f:
                    failed = int(f.read()) + 1
            except BaseException:
                failed = 1
            with open(FAILED_BOOTS, "w") as f:
                f.write(str(failed))
            if failed >= MAX_FAILED_BOOTS:
                import os
                import time

                os.remove(FAILED_BOOTS)  # the next press or power cycle gets as many tries again
                print("fob: failed to start %d times in a row; halted" % failed)
                try:
                    hardware = hardware or board.create()
                except BaseException:
                    hardware = None  # the board driver is what fails: nothing can switch the board off
                try:
                    from fobcore import render

                    render.draw_message(hardware.framebuffer, hardware.width, hardware.height, "FAULT", "RESTART")
                    hardware.display_power(True)
                    hardware.show()
                except BaseException:  # noqa: S110
                    pass  # no display: the serial line said it
                woken = False
                try:
                    time.sleep_ms(board.DISPLAY_TIMEOUT_MS)
                    hardware.power_off()  # the power-latch build is off here, until a press boots it again
                    if hardware.may_deep_sleep():
                        hardware.deep_sleep()  # the plain build: a press wakes it (esp32: through a reset)
                        woken = True  # (rp2) pressed: the reset below gives three more tries
                except BaseException:  # noqa: S110
                    pass  # on USB, or no board driver: idle below

                async def idle():
                    while True:
                        await asyncio.sleep(3600)

                while not woken:  # on USB or with a broken driver: until the power is cut, idle as asyncio idles
                    try:
                        asyncio.run(idle())
                    except BaseException:  # no asyncio (it failed to import)
                        try:
                            time.sleep(3600)
                        except BaseException:  # noqa: S110
                            pass  # nothing may end the halt
        except BaseException:  # noqa: S110
            pass  # the count could not be kept: reset all the same
        try:
            import machine

            machine.reset()
        finally:
            raise SystemExit  # no machine.reset on this port (unix): a soft reset, never the REPL
