"""Running the App cooperatively under asyncio, on a board or in the simulator.

One task waits for the button or the next redraw, another for serial
bytes; neither polls, so idle means sleeping inside the board's waits.
"""

import asyncio


async def _display_loop(app):
    board = app.board
    while True:
        wait_ms = app.tick()
        if wait_ms is None:
            board.power_off()  # the power-latch build ends here until the next press
            if board.may_deep_sleep():
                board.deep_sleep()
        if await board.wait_button(wait_ms):
            app.press()


async def _serial_loop(app):
    while True:
        app.receive(await app.board.read_serial())


async def serve(app):
    """Run the display and the serial protocol side by side, for ever."""
    app.press()  # a boot is a button press: power-on, or the wake from deep sleep
    await asyncio.gather(_display_loop(app), _serial_loop(app))
