"""fobauth.handoff: blocking calls on a few threads, their values and exceptions back on the event loop."""

import asyncio
import threading

import pytest

from fobauth.handoff import Handoff


def test_a_call_runs_on_a_thread_of_its_own_and_its_value_comes_back():
    handoff = Handoff(2, "test")

    async def main():
        return threading.current_thread().name, await handoff.call(
            lambda a, b: (threading.current_thread().name, a + b), 2, 3
        )

    loop_thread, (call_thread, value) = asyncio.run(main())
    assert value == 5
    assert call_thread.startswith("test_") and call_thread != loop_thread


def test_an_exception_of_the_call_is_raised_to_the_caller():
    handoff = Handoff(1, "test")

    def refuse():
        raise LookupError("refused")

    async def main():
        with pytest.raises(LookupError, match="refused"):
            await handoff.call(refuse)
        return await handoff.call(lambda: "still serving")

    assert asyncio.run(main()) == "still serving"


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

    asyncio.run(main())
    assert most[0] == 2


def test_a_call_given_up_meanwhile_is_settled_without_an_error_on_the_loop():
    handoff = Handoff(1, "test")
    release = threading.Event()
    loop_errors = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: loop_errors.append(context))
        waiting = asyncio.ensure_future(handoff.call(release.wait))
        await asyncio.sleep(0)
        waiting.cancel()  # the client went away while its verification ran
        release.set()
        return await handoff.call(lambda: "next")

    assert asyncio.run(main()) == "next"
    assert loop_errors == []


def test_a_call_that_ends_after_its_loop_closed_leaves_the_thread_serving():
    handoff = Handoff(1, "test")
    release = threading.Event()

    async def start():
        handoff.call(release.wait)

    asyncio.run(start())  # the loop closes with the call still running
    release.set()
    assert asyncio.run(_call(handoff, lambda: "served")) == "served"


async def _call(handoff, function):
    return await asyncio.wait_for(handoff.call(function), 10)
