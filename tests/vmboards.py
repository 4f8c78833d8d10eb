"""A board on each MicroPython port behind a pty, one interface: ``DEVICES[port](directory)``, then ``.port``."""

from unixdevice import UnixDevice

from fobsim.micropython_engine import MicroPythonDevice

DEVICES = {"webassembly": MicroPythonDevice, "unix": UnixDevice}
PORT = {device: port for port, device in DEVICES.items()}


def on_flash(board, path):
    """The bytes of file ``path`` on ``board``'s flash; None when it is not there or not a file."""
    if isinstance(board, UnixDevice):
        return board.read_flash(path)
    host = board.directory / "flash" / path
    return host.read_bytes() if host.is_file() else None
