# Runs inside the MicroPython unix port: the modules a board's port provides (``machine``,
# ``esp32``; with skipped idle time also ``time`` and ``select``), every call carried over a
# pipe to the board models in the test process (simulator/fobsim/models, served by
# tests/modelvm.py).  Nothing is modelled here: calls go out, answers and IRQs come back.
#
# install() puts them into sys.modules before main.py runs.  An import finds a loaded module
# before any built-in or file (py/builtinimport.c process_import_at_level, v1.27.0), so the
# board files import them unchanged.
#
# A request is one line: target ";" name ";" values "\n", a value being N (None), i<int>;,
# s<len>:<text>, b<len>:<bytes>, @<handle>; (an object the models hold), ? (a callable: an
# IRQ handler), (values) (a tuple or list) or k<name>= before a keyword's value.  Bytes go to
# the pipe straight from the caller's buffer (a frame is not copied on the fixed heap); an
# integer is written right-aligned in a fixed field.  The answer line is
# "<irq handles>|<skipped ms>|<kind><body>": the IRQs that fired during the call (their
# handlers run here, as soft IRQs run at the next bytecode boundary), the idle time the models
# skipped so far, and N, i, b (hex), t (tuple of ints), l (list of ints), h (a new object), s,
# e<errno> (OSError) or x<exception>:<message>.
#
# Time: the VM keeps its own clock.  With skipping, when the firmware idles or sleeps the
# models jump their time forward and the VM's ticks_ms gains the same jump (real ticks plus
# the skipped ms).  asyncio's C task queue stamps "now" with the real ticks
# (extmod/modasyncio.c ticks), which lag the skipped clock: such tasks only look overdue,
# so they run first, as they would.
import select as _select
import sys
import time as _time

_pipe_in = _pipe_out = None
_handlers = {}  # pin handle -> (handler, pin)
_skipped = 0
_ERRORS = {"ValueError": ValueError, "TypeError": TypeError, "AttributeError": AttributeError}
# A board's machine calls allocate (almost) nothing; nor may these, or their garbage would shape the
# fixed heap: buffers made once, type tuples built once, ints written as right-aligned digits.
_INTS, _BUFFERS, _SEQUENCES = (int, bool), (bytes, bytearray, memoryview), (tuple, list)
_digits = bytearray(21)
_one = bytearray(1)
_line = bytearray(256)


def _put_int(v):
    n = len(_digits)
    negative = v < 0
    v = -v if negative else v
    while True:
        n -= 1
        _digits[n] = 48 + v % 10
        v //= 10
        if not v:
            break
    if negative:
        n -= 1
        _digits[n] = 45
    while n:
        n -= 1
        _digits[n] = 32
    _pipe_out.write(_digits)


def _put(v):
    w = _pipe_out.write
    if v is None:
        w("N")
    elif isinstance(v, _INTS):
        w("i")
        _put_int(v)
        w(";")
    elif isinstance(v, str):
        w("s")
        _put_int(len(v))
        w(":")
        w(v)
    elif isinstance(v, _BUFFERS):
        w("b")
        _put_int(len(v))
        w(":")
        w(v)
    elif isinstance(v, Remote):
        w("@")
        _put_int(v._h)
        w(";")
    elif isinstance(v, _SEQUENCES):
        w("(")
        for item in v:
            _put(item)
        w(")")
    elif callable(v):
        w("?")
    else:
        raise TypeError("machinelink cannot send %s" % type(v))


def _read_line():
    """The next answer line into _line (without its newline); its length."""
    n = 0
    while True:
        if not _pipe_in.readinto(_one):
            raise OSError(5)  # the models went away
        if _one[0] == 10:
            return n
        if n == len(_line):
            _line.extend(bytes(n))
        _line[n] = _one[0]
        n += 1


def _int_at(i, end):
    """(the integer written in _line[i:end] up to a non-digit, where that stopped)."""
    sign = 1
    if i < end and _line[i] == 45:
        sign, i = -1, i + 1
    value = 0
    while i < end and 48 <= _line[i] <= 57:
        value = value * 10 + _line[i] - 48
        i += 1
    return sign * value, i


def _nibble(c):
    return c - 48 if c <= 57 else (c | 32) - 87  # a hex digit's value


def _ints(i, end):
    items = []
    while i < end:
        value, i = _int_at(i, end)
        items.append(value)
        i += 1  # the comma
    return items


def call(target, name, args=(), kwargs=None):
    """``target``.``name``(*args, **kwargs) in the models; what it returned (or raised)."""
    global _skipped
    w = _pipe_out.write
    if isinstance(target, str):
        w(target)
    else:
        _put_int(target)
    w(";")
    w(name)
    w(";")
    for a in args:
        _put(a)
    if kwargs:
        for k in kwargs:
            w("k")
            w(k)
            w("=")
            _put(kwargs[k])
    w("\n")
    end = _read_line()
    i = 0
    while _line[i] != 124:  # the IRQs that fired, handled once the answer is read
        i += 1
    irqs = i
    _skipped, i = _int_at(i + 1, end)
    kind, i = _line[i + 1], i + 2
    value = None
    if kind == 105:  # i
        value = _int_at(i, end)[0]
    elif kind == 98:  # b
        value = bytearray((end - i) // 2)
        for k in range(len(value)):
            value[k] = _nibble(_line[i + 2 * k]) << 4 | _nibble(_line[i + 2 * k + 1])
        value = bytes(value)
    elif kind == 116 or kind == 108:  # t, l
        value = _ints(i, end)
        value = tuple(value) if kind == 116 else value
    elif kind == 104:  # h
        value = Remote(_int_at(i, end)[0])
    elif kind == 115:  # s
        value = bytes(_line[i:end]).decode()
    elif kind == 101:  # e
        value = OSError(_int_at(i, end)[0])
    elif kind == 120:  # x
        error, _, message = bytes(_line[i:end]).decode().partition(":")
        value = _ERRORS.get(error, RuntimeError)(message)
    if irqs:
        for h in _ints(0, irqs):
            handler, pin = _handlers[h]
            handler(pin)
    if kind == 101 or kind == 120:
        raise value
    return value


class Remote:
    """An object held by the models (an ADC, the RTC): each method call is forwarded."""

    def __init__(self, handle):
        self._h = handle

    def __getattr__(self, name):
        h = self._h
        return lambda *args, **kwargs: call(h, name, args, kwargs)


class Module(Remote):
    """A port module (machine, esp32, time): its functions forwarded, its integer constants copied once."""

    def __init__(self, name):
        self._h = name
        answer = call(name, "__ints__")
        for item in answer.split(",") if answer else ():
            key, value = item.split("=")
            setattr(self, key, int(value))


class Pin(Remote):
    def __init__(self, *args, **kwargs):
        self._h = call("machine", "Pin", args, kwargs)._h

    def value(self, *args):
        return call(self._h, "value", args)

    __call__ = value

    def irq(self, handler=None, *args, **kwargs):
        _handlers[self._h] = (handler, self)
        return call(self._h, "irq", (handler,) + args, kwargs)


class I2C(Remote):
    """machine.I2C, its transfers spelled out: the SSD1306 and the DS3231 are on it all the time."""

    def __init__(self, *args, **kwargs):
        self._h = call("machine", "I2C", args, kwargs)._h

    def writeto(self, *args):
        return call(self._h, "writeto", args)

    def writevto(self, *args):
        return call(self._h, "writevto", args)

    def readfrom_mem(self, *args):
        return call(self._h, "readfrom_mem", args)

    def writeto_mem(self, *args):
        return call(self._h, "writeto_mem", args)


def ticks_ms():
    return _time.ticks_add(_time.ticks_ms(), _skipped)


class Poll:
    """select.poll: streams and ThreadSafeFlags as the port polls them; when none is ready, the
    models let the idle time pass (to the timeout or an IRQ) instead of the VM waiting it out."""

    def __init__(self):
        self._poll = _select.poll()
        self.register, self.modify, self.unregister = self._poll.register, self._poll.modify, self._poll.unregister

    def poll(self, timeout=-1):
        ready = self._poll.poll(0)
        if ready or timeout == 0:
            return ready
        call("select", "idle", (timeout,))
        return self._poll.poll(0)

    ipoll = poll


def install(pipe_in, pipe_out, modules, skip_idle):
    """Put the forwarding modules into sys.modules (``modules``: e.g. ("machine", "esp32"))."""
    global _pipe_in, _pipe_out
    _pipe_in, _pipe_out = open(pipe_in, "rb"), open(pipe_out, "wb")
    for name in modules:
        sys.modules[name] = Module(name)
    sys.modules["machine"].Pin = Pin
    sys.modules["machine"].I2C = I2C
    for key in call("machine", "__ints__", ("Pin",)).split(","):
        key, value = key.split("=")
        setattr(Pin, key, int(value))
    if skip_idle:
        clock = sys.modules["time"] = Module("time")
        clock.ticks_ms, clock.ticks_diff, clock.ticks_add = ticks_ms, _time.ticks_diff, _time.ticks_add
        sys.modules["select"] = Select


class Select:
    """``select`` as the port has it, with Poll's poll()."""

    POLLIN, POLLOUT, POLLERR, POLLHUP = _select.POLLIN, _select.POLLOUT, _select.POLLERR, _select.POLLHUP
    poll = Poll
