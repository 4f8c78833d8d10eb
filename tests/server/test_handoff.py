"""fobauth.handoff: blocking calls on a few threads, their values and exceptions back on the event loop."""

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


def test_a_call_runs_on_a_thread_of_its_own_and_its_value_comes_back():
    handoff = Handoff(2, "test")

    async def main():
        value = await handoff.call(lambda a, b: (threading.current_thread().name, a + b), 2, 3)
        return threading.current_thread().name, value

    loop_thread, (call_thread, value) = run(main)
    assert value == 5
    assert call_thread.startswith("test_") and call_thread != loop_thread


class Interrupted(BaseException):
    pass


@pytest.mark.parametrize("kind", [LookupError, Interrupted])
def test_an_exception_of_the_call_is_raised_to_the_caller_from_the_call_itself(kind):
    handoff = Handoff(1, "test")

    def refuse():
        raise kind("refused")

    async def main():
        with pytest.raises(kind, match="refused") as raised:
            await handoff.call(refuse)
        return raised.value.__traceback__, await handoff.call(lambda: "still serving")

    traceback, after = run(main)
    assert after == "still serving"
    frames = []
    while traceback is not None:
        frames.append(traceback.tb_frame.f_code.co_name)
        traceback = traceback.tb_next
    assert frames[-1] == "refuse" and "_run" not in frames and "_serve" not in frames


def test_no_more_calls_run_at_once_than_there_are_threads():
    handoff = Handoff(2, "test")
    lock = threading.Lock()
    running, most = [0], [0]

    def busy():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        threading.Event().wait(0.02)  # long enough for every other call to have been handed off
        with lock:
            running[0] -= 1

    async def main():
        await asyncio.gather(*(handoff.call(busy) for _ in range(8)))

    run(main)
    assert most[0] == 2


def test_a_call_given_up_while_it_runs_is_settled_without_an_error_on_the_loop():
    handoff = Handoff(1, "test")
    release = threading.Event()
    loop_errors = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: loop_errors.append(context))
        waiting = handoff.call(release.wait)
        await asyncio.sleep(0)
        waiting.cancel()  # the client went away while its verification ran
        release.set()
        return await handoff.call(lambda: "next")

    assert run(main) == "next"
    assert loop_errors == []


def test_a_call_given_up_before_it_started_is_not_made():
    handoff = Handoff(1, "test")
    release = threading.Event()
    made = []

    async def main():
        first = handoff.call(release.wait)
        queued = [handoff.call(made.append, n) for n in range(4)]
        for given_up in queued[:3]:
            given_up.cancel()
        release.set()
        await first
        await queued[3]

    run(main)
    assert made == [3]


def test_a_call_that_ends_after_its_loop_closed_leaves_the_thread_serving():
    handoff = Handoff(1, "test")
    release = threading.Event()

    async def start():
        handoff.call(release.wait)

    asyncio.run(start())  # the loop closes with the call still running
    release.set()

    async def main():
        return await handoff.call(lambda: "served")

    assert run(main) == "served"


def test_nothing_of_a_finished_call_is_kept():
    handoff = Handoff(1, "test")

    class Argument:
        pass

    held = [Argument()]
    kept = weakref.ref(held[0])

    async def main():
        await handoff.call(lambda _: None, held[0])

    run(main)
    held.clear()
    assert within(5, lambda: gc.collect() is not None and kept() is None)


def test_the_threads_end_with_the_handoff():
    handoff = Handoff(3, "ending")
    assert sum(thread.name.startswith("ending_") for thread in threading.enumerate()) == 3
    del handoff
    gc.collect()
    assert within(5, lambda: not any(thread.name.startswith("ending_") for thread in threading.enumerate()))
