"""`fob sim`: start a simulated fob (the real firmware app on a virtual board)."""

import os
import sys

from fobhost import outfile
from fobhost.errors import UsageError


def register(subparsers):
    parser = subparsers.add_parser(
        "sim",
        help="run a simulated fob with a window (or headless) and a virtual serial port",
        description=(
            "Run the fob's firmware on a virtual board: its display in a window (or the terminal), "
            "a button (click, space or Enter in the window; headless, an empty line on standard input, which "
            "also takes JSON commands for scripts: see docs/simulator.md), a virtual clock, "
            "and a pty serial port that `fob provision --port` and `fob info --port` use like hardware."
        ),
    )
    parser.add_argument("--name", default="fob", help="which simulated token (default: fob); each has its own flash")
    parser.add_argument("--dir", metavar="PATH", help="token directory (default: the user data dir's sim/NAME)")
    parser.add_argument("--blank", action="store_true", help="start a fresh, blank token (erases NAME's flash)")
    parser.add_argument("--demo", action="store_true", help="provision a blank token with the public demo seed")
    parser.add_argument("--offset", type=float, metavar="SECONDS", help="set the fob's clock to host UTC + SECONDS")
    parser.add_argument("--drift-ppm", type=float, metavar="PPM", help="clock drift in parts per million (kept)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X", help="run time X times faster (default: 1)")
    parser.add_argument("--headless", action="store_true", help="no window: draw the display in the terminal")
    parser.add_argument("--screenshot", metavar="FILE.png", help="keep FILE.png updated with the current display")
    parser.add_argument("--force", action="store_true", help="let --screenshot replace an existing FILE.png")
    parser.add_argument("--json-events", action="store_true", help="print one JSON object per event on stdout")
    parser.add_argument(
        "--display-timeout", type=float, default=30, metavar="SECONDS", help="display on-time per press (default: 30)"
    )
    parser.add_argument("--display", choices=("128x32", "128x64"), default="128x32", help="panel size")
    parser.add_argument("--scale", type=int, default=4, help="window pixels per display pixel (default: 4)")
    parser.add_argument(
        "--engine",
        choices=("cpython", "micropython"),
        default="cpython",
        help="run the firmware under CPython (default) or inside the MicroPython VM",
    )
    parser.add_argument(
        "--board",
        metavar="NAME",
        help="run the token on a board's model (e.g. rp2-pico-ssd1306): its real board file, sleep and battery; "
        "headless; its pty is the USB port, plugged in while a host program holds it open",
    )
    parser.add_argument("--build", metavar="VARIANT", help="with --board: plain (default) or latch")
    parser.set_defaults(run=run)


MAX_OFFSET = 100 * 366 * 86400  # a century either way: further off, the fob shows CLOCK anyway
MAX_DISPLAY_TIMEOUT = 86400


def run(args):
    from fobsim.clock import MAX_DRIFT_PPM, MAX_SPEED

    # Written so that NaN fails each test too.
    if not 0 < args.speed <= MAX_SPEED:
        raise UsageError("--speed must be above 0 and at most %g" % MAX_SPEED)
    if args.offset is not None and not -MAX_OFFSET <= args.offset <= MAX_OFFSET:
        raise UsageError("--offset must be a number of seconds within ±%d (a century)" % MAX_OFFSET)
    if args.drift_ppm is not None and not -MAX_DRIFT_PPM < args.drift_ppm <= MAX_DRIFT_PPM:
        raise UsageError("--drift-ppm must be above -%d and at most %d" % (MAX_DRIFT_PPM, MAX_DRIFT_PPM))
    if not 0 < args.display_timeout <= MAX_DISPLAY_TIMEOUT:
        raise UsageError("--display-timeout must be above 0 and at most %d seconds" % MAX_DISPLAY_TIMEOUT)
    if not 1 <= args.scale <= 16:
        raise UsageError("--scale must be 1 to 16")
    if args.build is not None and args.board is None:
        raise UsageError("--build needs --board")
    if args.name != os.path.basename(args.name) or args.name in ("", ".", ".."):
        raise UsageError("--name must be a plain name, not a path")
    if args.screenshot is not None:
        try:
            outfile.check(args.screenshot, args.force)
        except outfile.OutputError as error:
            raise UsageError("--screenshot: %s" % error) from None
    from fobsim import tokendir
    from fobsim.simulator import default_root

    try:
        claimed = tokendir.claim(args.dir or default_root() / args.name)  # noqa: F841 - held until exit
    except tokendir.TokenBusy as error:
        raise UsageError(str(error)) from None
    except tokendir.NotATokenDir as error:
        raise UsageError("%s: %s" % ("--dir" if args.dir else "token directory", error)) from None
    if args.engine == "micropython" and (args.speed != 1.0 or args.demo or args.screenshot):
        raise UsageError("--speed, --demo and --screenshot need --engine cpython")
    if args.board is not None:
        return _board_model(args, args.dir or default_root() / args.name)

    from fobsim import frontends
    from fobsim.events import EventLog
    from fobsim.terminal import TerminalView

    height = int(args.display.split("x")[1])
    window = None if args.headless else _open_window(height, args.scale, lambda: simulator.press())
    headless = window is None
    views = []
    if headless:
        if not args.json_events:
            views.append(TerminalView(sys.stdout, ansi=sys.stdout.isatty()))
        elif sys.stderr.isatty():
            views.append(TerminalView(sys.stderr))
    common = {
        "name": args.name,
        "blank": args.blank,
        "offset": args.offset,
        "drift_ppm": args.drift_ppm,
        "events": EventLog(sys.stdout) if args.json_events else None,
        "views": views,
        "height": height,
        "display_timeout_ms": int(args.display_timeout * 1000),
    }
    say = sys.stderr if args.json_events else sys.stdout
    directory = args.dir or default_root() / args.name
    if args.engine == "micropython":
        simulator, title = _micropython(directory, common, say)
    else:
        simulator, title = _cpython(directory, common, args, say)
    if headless:
        if not args.json_events:
            print("press Enter to press the button, Ctrl-C to quit", file=say, flush=True)
        frontends.run_headless(simulator)
    else:
        window.root.title("%s — %s" % (title, args.name))
        simulator.views.append(window)
        frontends.run_window(simulator, window)


def _board_model(args, directory):
    """`--board NAME`: the token on the board's model, headless; presses from standard input."""
    if args.engine != "cpython" or args.demo or args.screenshot or args.blank:
        raise UsageError("--board runs the token as it is: no --engine, --demo, --screenshot or --blank")
    from fobsim import frontends
    from fobsim.boardsim import BoardSim
    from fobsim.events import EventLog
    from fobsim.models.image import MissingDriver
    from fobsim.models.power import ProfileError
    from fobsim.terminal import TerminalView

    build = args.build or "plain"
    say = sys.stderr if args.json_events else sys.stdout
    views = [] if args.json_events else [TerminalView(sys.stdout, ansi=sys.stdout.isatty())]
    try:
        sim = BoardSim(
            args.board,
            directory,
            variant=build,
            speed=args.speed,
            offset=args.offset,
            events=EventLog(sys.stdout) if args.json_events else None,
            views=views,
        )
    except (ProfileError, MissingDriver) as error:
        raise UsageError("--board: %s" % error) from None
    print(
        "fob %r on the %s model (%s build), serial port %s: Enter presses the button, Ctrl-C quits"
        % (args.name, args.board, build, sim.port_path),
        file=say,
        flush=True,
    )
    if sim.events is not None:
        sim.events.emit("ready", port=sim.port_path, name=args.name, board=args.board, build=build)
    frontends.run_board_model(sim)
    return 0


def _open_window(height, scale, press):
    """The simulator's window, or None (said on stderr) when no display can be opened: run headless then."""
    display = os.environ.get("DISPLAY")
    if not display:
        print("fob sim: no display ($DISPLAY is not set): running headless", file=sys.stderr)
        return None
    import tkinter

    from fobsim.window import WIDTH, FobWindow

    try:
        return FobWindow(WIDTH, height, press, scale=scale)
    except tkinter.TclError as error:  # e.g. a stale `ssh -X` forwarding
        print("fob sim: cannot open the display %s (%s): running headless" % (display, error), file=sys.stderr)
        return None


def _cpython(directory, common, args, say):
    from fobsim.simulator import DEMO_SEED, Simulator

    simulator = Simulator(directory, speed=args.speed, screenshot=args.screenshot, **common)
    if args.demo:
        from fobcore.token import TokenError

        try:
            demo = simulator.provision_demo()
        except TokenError:
            simulator.port.close()
            raise UsageError(
                "--demo: the fob does not believe its clock (before 2026 or after 2099): check --offset"
            ) from None
        if demo:
            from fobcore import base32

            print("demo seed (public, for trying out only): %s" % base32.encode(DEMO_SEED), file=say)
            print("  compare:  fob code %s" % base32.encode(DEMO_SEED), file=say)
        else:
            print("fob %r holds its own seed, not the demo seed (use --blank to start over)" % args.name, file=say)
    print("simulated fob %r on serial port %s" % (args.name, simulator.port_path), file=say, flush=True)
    return simulator, "fobkit simulator"


def _micropython(directory, common, say):
    """The board starts as its flash left it: a blank one has no firmware until `fob flash --board sim`."""
    from fobsim.micropython_engine import MicroPythonSimulator
    from fobsim.vmscript import MissingNode

    try:
        simulator = MicroPythonSimulator(directory, **common)
    except MissingNode as error:
        raise UsageError(str(error)) from None
    print("virtual MicroPython board %r on serial port %s" % (common["name"], simulator.port_path), file=say)
    if not (simulator.vm.flash / "main.py").exists():
        print("  no firmware on it yet: fob flash --board sim --port %s" % simulator.port_path, file=say)
    say.flush()
    return simulator, "fobkit simulator (MicroPython VM)"
