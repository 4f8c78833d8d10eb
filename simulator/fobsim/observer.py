"""What a simulated fob shows and is, reported once for both engines: events, frames, the status line.

Each engine (fobsim.simulator under CPython, fobsim.micropython_engine in
the VM) tells the Observer what happened on its board; the Observer
decides what is news (one ``display`` event per switch, one ``code`` event
per code shown, one ``state`` event per change, one ``press`` event per
press saying what the press showed) and hands frames and status text to
the views (window, terminal).
"""

from fobsim import tokendir


class Observer:
    def __init__(self, name, port, engine, fob_time, events=None, views=()):
        self.name = name
        self.port = port
        self.engine = engine
        self.fob_time = fob_time  # the fob's clock now, for the status line
        self.events = events
        self.views = list(views)
        self.state = None
        self._display_on = False
        self._last_code = None
        self._info_shown = False  # the information screen (a long press) is up

    def emit(self, event, **fields):
        if self.events is not None:
            self.events.emit(event, **fields)

    # -- what the engine reports ------------------------------------------------------------
    def ready(self, state, serial):
        self.emit("ready", port=self.port, name=self.name, engine=self.engine, state=state, serial=serial or None)
        self.state_is(state, serial)

    def display(self, on):
        """The panel was switched; a reset switches it off, whatever it was."""
        if on != self._display_on:
            self._display_on = on
            self.emit("display", on=on)
            self._last_code = None  # each time the display comes on, the code shown is news

    @property
    def display_on(self):
        return self._display_on

    def frame(self, rows):
        for view in self.views:
            view.post_frame(rows)
            view.post_status(self.status_line())

    def shown(self, view, fob_time):
        """The firmware drew ``view`` (an App view tuple) for ``fob_time``; None: a frame no App view matches."""
        info = view is not None and view[0] == "info"
        if info and not self._info_shown:
            self.emit("info", serial=None if view[1] == "-" else view[1], time=view[2], battery=view[3])
        self._info_shown = info
        if view is not None and view[0] == "code":
            if view[1] != self._last_code:
                self._last_code = view[1]
                self.emit("code", code=view[1], serial=view[4], time=int(fob_time), seconds_left=view[2])
        else:
            self._last_code = None

    def pressed(self, view, fob_time):
        """A press was handled and showed ``view``: every press gets an event, a code already shown too."""
        if view is None:
            self.emit("press", shows=None)
        elif view[0] == "code":
            self.emit("press", shows="code", code=view[1], serial=view[4], time=int(fob_time), seconds_left=view[2])
        else:
            self.emit("press", shows=view[0], serial=view[1] or None)

    def state_is(self, state, serial):
        if state != self.state:
            self.state = state
            self.emit("state", state=state, serial=serial or None)
            for view in self.views:
                view.post_status(self.status_line())

    def status_line(self):
        engine = "" if self.engine == "cpython" else " (MicroPython VM)"
        shown = tokendir.describe_time(self.fob_time())
        return "%s  ·  %s  ·  %s%s  ·  %s" % (self.name, self.port, self.state, engine, shown)
