"""The WebAssembly VM board tells whether its heap grew (board.mjs --heap-watch): what the 32-bit figure rests on."""

from wasmheap import sealed_in_use


def test_a_heap_too_small_for_the_sealed_fob_is_seen_to_grow():
    run = sealed_in_use(32 * 1024)
    assert run.ok and run.grown is True, run  # the port grew it instead of failing


def test_a_heap_large_enough_is_seen_not_to_grow():
    run = sealed_in_use(128 * 1024)
    assert run.ok and run.grown is False, run
