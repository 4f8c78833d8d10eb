"""A serving process puts what it built at start-up out of the garbage collector's reach (gc.freeze).

Without it, a full collection walks the whole start-up heap every few thousand
requests and stalls every request in flight (80-90 ms, benchmarks/server.py),
which alone set the HTTP p99.  Checked for both ways `fob serve` starts a
process: one process, and the workers of ``--workers N``.
"""

import gc

import pytest
import uvicorn

from fobauth import runtime, settings
from fobhost.cli import main


@pytest.fixture
def unfrozen():
    """Start and end with nothing frozen, so the test process's collector is left as it was."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_one_process_serve_freezes_its_start_up_heap_before_serving(tmp_path, monkeypatch, unfrozen):
    frozen_when_serving = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: frozen_when_serving.append(gc.get_freeze_count()))
    monkeypatch.setenv(settings.API_KEY_ENV, "settled-heap-api-key-0123456789")
    database = "sqlite:///%s" % (tmp_path / "auth.db")
    assert main(["serve", "--db", database, "--seed-key-file", str(tmp_path / "seed.key"), "--quiet"]) == 0
    assert len(frozen_when_serving) == 1
    assert frozen_when_serving[0] > 10_000  # the modules, the app, the engine: not a handful of objects


def test_a_worker_freezes_its_start_up_heap(tmp_path, monkeypatch, unfrozen):
    monkeypatch.setenv(settings.DB_ENV, "sqlite:///%s" % (tmp_path / "auth.db"))
    monkeypatch.setenv(settings.API_KEY_ENV, "settled-heap-api-key-0123456789")
    monkeypatch.setenv(settings.SEED_KEY_ENV, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    assert gc.get_freeze_count() == 0
    runtime.app_from_environment()
    assert gc.get_freeze_count() > 10_000
