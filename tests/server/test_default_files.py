"""Without options, the service keeps its database and key files in the user's data directory, never in the cwd."""

import os
import subprocess

from simproc import FOB


def test_defaults_live_in_the_user_data_directory(tmp_path):
    work_tree = tmp_path / "checkout"
    work_tree.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    for name in ("FOB_DB_URL", "FOB_SEED_KEY", "FOB_API_KEY"):
        env.pop(name, None)
    done = subprocess.run(
        [FOB, "admin", "expiring"], cwd=work_tree, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert os.listdir(work_tree) == []
    server = tmp_path / "data" / "fobkit" / "server"
    assert sorted(os.listdir(server)) == ["fobauth.db", "seed.key"]
    assert server.stat().st_mode & 0o777 == 0o700 and (server / "seed.key").stat().st_mode & 0o777 == 0o600


def test_the_readme_demo_files_are_ignored_by_git():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    names = ["demo.pskcxml", "demo-inventory.sqlite3", "demo-inventory.sqlite3.key", "fobauth.db", "fobauth-seed.key"]
    done = subprocess.run(["git", "check-ignore", *names], cwd=root, capture_output=True, text=True)
    assert done.stdout.split() == names
