"""The data directory is created only for a file that lies inside it: a path compared as a path."""

import stat

import pytest

from fobauth import settings
from fobauth.runtime import make_data_dir


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "share" / "fobkit" / "server"
    monkeypatch.setattr(settings, "DATA_DIR", path)
    return path


@pytest.mark.parametrize("location", ["{data}/fobauth.db", "sqlite:///{data}/fobauth.db", "{data}/sub/../api.key"])
def test_a_file_in_the_data_directory_creates_it_private(data_dir, location):
    make_data_dir(location.format(data=data_dir))
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "location",
    [
        "{data}-old/fobauth.db",  # a sibling whose name begins with the data directory's
        "sqlite:///{data}2/fobauth.db",
        "{data}/../elsewhere/fobauth.db",  # through the data directory, out again
        "/srv/copy{data}/fobauth.db",  # the data directory's path inside another one
        "postgresql://fob@db.example/fobauth?application_name={data}/x",  # not a file at all
        "sqlite://",  # in memory
    ],
)
def test_a_location_outside_the_data_directory_creates_nothing(data_dir, location):
    make_data_dir(location.format(data=data_dir))
    assert not data_dir.parent.exists()
