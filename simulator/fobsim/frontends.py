"""Ways to run a Simulator: in a Tk window, or headless in a terminal."""

import asyncio
import contextlib
import signal
import sys
import termios
import threading


def run_headless(simulator, stdin=sys.stdin):
    """Serve on this thread; ``stdin`` is the control channel (a newline presses); SIGINT/SIGTERM stop.

    Standard input is read by a thread blocked in readline(), which works
    for a terminal, a pipe or a file alike (epoll refuses files).
    """

    def read_presses():
        for line in stdin:
            simulator.control(line)  # an empty line presses; a JSON object is a command (fobsim.control)

    async def main():
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, simulator.stop)
        if stdin is not None:
            threading.Thread(target=read_presses, name="stdin", daemon=True).start()
        await simulator.run()

    with _no_echo(stdin):
        asyncio.run(main())


@contextlib.contextmanager
def _no_echo(stdin):
    """A terminal's echo off while Enter presses the button: an echoed newline would shift the drawing down."""
    try:
        fd = stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (AttributeError, OSError, ValueError, termios.error):  # a pipe, a file, no stdin
        yield
        return
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | termios.ECHONL)
    termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_window(simulator, window):
    """Tk in this thread, the firmware's event loop in another; closing the window stops both.

    Signals write to the window's wake-up pipe, so SIGINT/SIGTERM reach Python
    while Tk sleeps in its event loop.
    """
    thread = threading.Thread(target=asyncio.run, args=(simulator.run(),), name="firmware", daemon=True)
    thread.start()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: window.close())
    signal.set_wakeup_fd(window.wake_fd)
    try:
        window.run()
    finally:
        signal.set_wakeup_fd(-1)
        simulator.stop()
        thread.join(timeout=5)


def run_board_model(sim, stdin=sys.stdin):
    """A board model in this thread (it paces itself to real time); a newline on ``stdin`` presses, SIGINT stops."""

    def read_presses():
        for _ in stdin:
            sim.press()

    if stdin is not None:
        threading.Thread(target=read_presses, name="stdin", daemon=True).start()
    previous = signal.signal(signal.SIGINT, lambda *_: sim.stop())
    try:
        sim.run()
    finally:
        signal.signal(signal.SIGINT, previous)
