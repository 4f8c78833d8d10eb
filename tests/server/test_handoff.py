"""fobauth.handoff: blocking work on a few threads in groups, its values and exceptions back on the event loop."""

import asyncio
import gc
import threading
import time
import weakref

import pytest

from fobauth.handoff import Handoff


def within(seconds, condition):
    """Whether ``condition()`` holds within ``seconds`` (things a thread does after handing a result back)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)  # polling for another thread's progress
    return True


def run(main):
    """``main()`` on a new event loop, failing rather than hanging when a call is never settled."""
    return asyncio.run(asyncio.wait_for(main(), 10))


class Holding:
    """A group function, ``then(items)``, whose group of ``first`` alone waits for ``release`` (``started``
    tells that the thread has taken it), so that the calls made meanwhile wait for a group together."""

    def __init__(self, then, first="first"):
        self.started, self.release = threading.Event(), threading.Event()
        self._then, self._first = then, first

    def __call__(self, items):
        if items == [self._first]:
            self.started.set()
            self.release.wait()
        return self._then(items)


async def taken(started):
    """Wait, without blocking the loop, until the thread has taken its first group (``started`` set)."""
    while not started.is_set():
        await asyncio.sleep(0.001)


def each(function):
    """A group function that calls ``function(item)`` for each item of the group."""
    return lambda items: [function(item) for item in items]


def test_a_call_runs_on_a_thread_of_its_own_and_its_value_comes_back():
    handoff = Handoff(2, "test", each(lambda pair: (threading.current_thread().name, sum(pair))), 8)

    async def main():
        value = await handoff.call((2, 3))
        return threading.current_thread().name, value

    loop_thread, (call_thread, value) = run(main)
    assert value == 5
    assert call_thread.startswith("test_") and call_thread != loop_thread


def test_the_items_waiting_when_a_thread_comes_free_are_one_group_of_at_most_the_limit():
    groups = []

    def record(items):
        groups.append(list(items))
        return [item.upper() for item in items]

    holding = Holding(record)
    handoff = Handoff(1, "test", holding, 4)

    async def main():
        first = handoff.call("first")
        await taken(holding.started)
        later = [handoff.call(item) for item in "abcdef"]
        holding.release.set()
        return await first, await asyncio.gather(*later)

    assert run(main) == ("FIRST", list("ABCDEF"))
    assert groups == [["first"], list("abcd"), list("ef")]


class Interrupted(BaseException):
    pass


def raised_to_a_group(make_error):
    """What three calls taken as one group get from a function that raises ``make_error()``, and what
    a call after them gets."""

    def refuse(items):
        if items == ["hold"]:
            return ["held"]
        if "serve" in items:
            return ["still serving"]
        raise make_error()

    holding = Holding(refuse, first="hold")
    handoff = Handoff(1, "test", holding, 8)

    async def main():
        held = handoff.call("hold")
        await taken(holding.started)
        refused = [handoff.call(n) for n in range(3)]
        holding.release.set()
        await held
        outcomes = await asyncio.gather(*refused, return_exceptions=True)
        return outcomes, await handoff.call("serve")

    return run(main)


@pytest.mark.parametrize("kind", [LookupError, Interrupted])
def test_an_exception_of_the_function_is_raised_to_every_caller_of_the_group_from_the_function_itself(kind):
    outcomes, after = raised_to_a_group(lambda: kind("refused"))
    assert after == "still serving"
    assert [type(outcome) for outcome in outcomes] == [kind] * 3
    assert len({id(outcome) for outcome in outcomes}) == 3  # each caller's own: tracebacks are not shared
    frames = []
    traceback = outcomes[0].__traceback__
    while traceback is not None:
        frames.append(traceback.tb_frame.f_code.co_name)
        traceback = traceback.tb_next
    assert frames[-1] == "refuse" and "_run" not in frames and "_serve" not in frames


class Unrebuildable(Exception):
    def __init__(self, *, why):
        super().__init__(why)


def test_an_exception_that_cannot_be_copied_still_reaches_every_caller():
    outcomes, after = raised_to_a_group(lambda: Unrebuildable(why="refused"))
    assert [type(outcome) for outcome in outcomes] == [Unrebuildable] * 3
    assert after == "still serving"


def test_a_function_that_answers_a_group_wrongly_is_an_error_to_its_callers_not_a_hang():
    handoff = Handoff(1, "test", lambda items: [] if items == ["short"] else items, 8)

    async def main():
        with pytest.raises(ValueError, match="0 values for a group of 1"):
            await handoff.call("short")
        return await handoff.call("served")

    assert run(main) == "served"


def test_no_more_groups_run_at_once_than_there_are_threads():
    lock = threading.Lock()
    running, most = [0], [0]

    def busy(items):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        threading.Event().wait(0.02)  # long enough for every other call to have been handed off
        with lock:
            running[0] -= 1
        return [None] * len(items)

    handoff = Handoff(2, "test", busy, 1)

    async def main():
        await asyncio.gather(*(handoff.call(n) for n in range(8)))

    run(main)
    assert most[0] == 2


def test_a_call_given_up_while_it_runs_is_settled_without_an_error_on_the_loop():
    release = threading.Event()
    handoff = Handoff(1, "test", each(lambda item: item == "wait" and release.wait() or item), 8)
    loop_errors = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: loop_errors.append(context))
        waiting = handoff.call("wait")
        await asyncio.sleep(0)
        waiting.cancel()  # the client went away while its verification ran
        release.set()
        return await handoff.call("next")

    assert run(main) == "next"
    assert loop_errors == []


def test_a_call_given_up_before_its_group_started_is_not_made():
    made = []

    def make(items):
        made.extend(items)
        return [None] * len(items)

    holding = Holding(make)
    handoff = Handoff(1, "test", holding, 8)

    async def main():
        first = handoff.call("first")
        await taken(holding.started)
        queued = [handoff.call(n) for n in range(4)]
        for given_up in queued[:3]:
            given_up.cancel()
        holding.release.set()
        await first
        await queued[3]

    run(main)
    assert made == ["first", 3]


def test_a_group_that_ends_after_its_loop_closed_leaves_the_thread_serving():
    release = threading.Event()
    handoff = Handoff(1, "test", each(lambda item: item == "wait" and release.wait() or item), 8)

    async def start():
        handoff.call("wait")

    asyncio.run(start())  # the loop closes with the call still running
    release.set()

    async def main():
        return await handoff.call("served")

    assert run(main) == "served"


def test_nothing_of_a_finished_group_is_kept():
    handoff = Handoff(1, "test", each(lambda _: None), 8)

    class Argument:
        pass

    held = [Argument()]
    kept = weakref.ref(held[0])

    async def main():
        await handoff.call(held[0])

    run(main)
    held.clear()
    assert within(5, lambda: gc.collect() is not None and kept() is None)


@pytest.mark.parametrize("waiting", [0, 5])
def test_the_threads_end_with_the_handoff(waiting):
    """Also when calls were still running or waiting as it went."""
    release = threading.Event()
    handoffs = [Handoff(3, "ending", each(lambda item: release.wait()), 8)]

    async def main():
        for n in range(waiting):
            handoffs[0].call(n)

    run(main)
    assert sum(thread.name.startswith("ending_") for thread in threading.enumerate()) == 3
    handoffs.clear()
    gc.collect()
    release.set()
    assert within(5, lambda: not any(thread.name.startswith("ending_") for thread in threading.enumerate()))
