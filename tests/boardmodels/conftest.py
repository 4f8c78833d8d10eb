"""Fobs on the board models: the real board files, drivers, ssd1306 and main.py on modelled hardware."""

import pytest
from modelfob import provisioned


@pytest.fixture
def make_fob(tmp_path):
    def make(board, **options):
        return provisioned(board, tmp_path / "flash", **options)

    return make
