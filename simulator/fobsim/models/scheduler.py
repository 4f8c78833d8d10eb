"""MicroPython's ``asyncio`` (the subset the firmware uses) over the world's virtual time.

The firmware imports ``asyncio`` and gets this module's functions, bound to
one ``Scheduler``: tasks are plain coroutines, a wait is an Event and/or a
deadline, and when every task waits the world's time jumps to the next
deadline or event.  ``ThreadSafeFlag`` and ``wait_for_ms`` are MicroPython's
own (extmod/asyncio/event.py, funcs.py in v1.27.0).
"""

import types


class Interrupt(BaseException):
    """Base of what stops the chip (a reset, the scenario's end): the firmware never sees it (World.stop)."""


class CancelledError(BaseException):
    pass


class _Wait:
    """Awaitable: resume when ``event`` is set, one of ``tasks`` is done, or at ``deadline``."""

    def __init__(self, event=None, deadline=None, tasks=()):
        self.event = event
        self.deadline = deadline
        self.tasks = tasks

    def __await__(self):
        yield self


class Task:
    def __init__(self, coro):
        self.coro = coro
        self.waiting = None
        self.done = False
        self.result = None
        self.error = None


class Event:
    def __init__(self):
        self._set = False

    def is_set(self):
        return self._set

    def set(self):
        self._set = True

    def clear(self):
        self._set = False

    async def wait(self):
        while not self._set:
            await _Wait(event=self)
        return True


class ThreadSafeFlag(Event):
    """Set from an IRQ handler; wait() clears it again (extmod/asyncio/event.py)."""

    async def wait(self):
        await Event.wait(self)
        self._set = False


class Scheduler:
    def __init__(self, world, on_idle=None):
        self.world = world
        self.tasks = []
        self.on_idle = on_idle  # called with True while every task waits, False when one runs again

    def _ready(self, task):
        w = task.waiting
        if w is None:
            return True
        if w.event is not None and w.event.is_set():
            return True
        if any(t.done for t in w.tasks):
            return True
        return w.deadline is not None and self.world.now >= w.deadline

    def spawn(self, coro):
        task = Task(coro)
        self.tasks.append(task)
        return task

    def _step(self, task):
        try:
            task.waiting = task.coro.send(None)
        except StopIteration as done:
            task.done, task.result = True, done.value
        except BaseException as error:  # noqa: BLE001 -- handed to whoever awaits the task
            task.done, task.error = True, error
        if task.done:
            self.tasks.remove(task)

    def cancel(self, task):
        if not task.done:
            task.coro.close()
            task.done, task.error = True, CancelledError()
            self.tasks.remove(task)

    def run(self, coro):
        """asyncio.run: until ``coro`` returns (its error raised here), time passing while all wait."""
        main = self.spawn(coro)
        while not main.done:
            ready = [t for t in self.tasks if self._ready(t)]
            for task in ready:
                if not task.done:
                    self._step(task)
            if ready or main.done:
                continue
            deadlines = [t.waiting.deadline for t in self.tasks if t.waiting.deadline is not None]
            if self.on_idle:
                self.on_idle(True)
            self.world.advance_to(min(deadlines) if deadlines else None, stop=lambda: any(map(self._ready, self.tasks)))
            if self.on_idle:
                self.on_idle(False)
        if main.error is not None:
            raise main.error
        return main.result

    def module(self):
        """The ``asyncio`` module the firmware imports."""
        sched = self

        async def sleep_ms(ms):
            await _Wait(deadline=sched.world.now + ms / 1000)

        async def sleep(seconds):
            await sleep_ms(seconds * 1000)

        async def wait_for_ms(awaitable, ms):
            child = sched.spawn(awaitable)
            deadline = sched.world.now + ms / 1000
            while not child.done:
                if sched.world.now >= deadline:
                    sched.cancel(child)
                    raise TimeoutError()
                await _Wait(deadline=deadline, tasks=(child,))
            if child.error is not None:
                raise child.error
            return child.result

        async def wait_for(awaitable, seconds):
            return await wait_for_ms(awaitable, seconds * 1000)

        async def gather(*coros):
            children = [sched.spawn(c) for c in coros]
            while True:
                for child in children:
                    if child.error is not None:
                        raise child.error
                if all(child.done for child in children):
                    return [child.result for child in children]
                await _Wait(tasks=tuple(c for c in children if not c.done))

        def create_task(coro):
            return sched.spawn(coro)

        class StreamReader:
            """asyncio.StreamReader over a model stream with ``readable`` (an Event) and ``read(n)``."""

            def __init__(self, stream):
                self.stream = stream

            async def read(self, n):
                while not self.stream.any():
                    await self.stream.readable.wait()
                return self.stream.read(n)

        asyncio = types.ModuleType("asyncio")
        vars(asyncio).update(
            run=self.run,
            sleep=sleep,
            sleep_ms=sleep_ms,
            wait_for=wait_for,
            wait_for_ms=wait_for_ms,
            gather=gather,
            create_task=create_task,
            Event=Event,
            ThreadSafeFlag=ThreadSafeFlag,
            StreamReader=StreamReader,
            TimeoutError=TimeoutError,
            CancelledError=CancelledError,
        )
        return asyncio
