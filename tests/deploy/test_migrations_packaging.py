"""Migrations ship in the wheel: `pip install` and the image carry the SQL files of the top-level migrations/.

The wheel is built by pip exactly as a user or the Dockerfile builds it; the SQL it carries must be the
files of migrations/, byte for byte, and an install of that wheel must find them by itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from compass_worker.knowledge.migrations import discover
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
SOURCE_SQL = sorted(p.name for p in (ROOT / "migrations").glob("*.sql"))


def test_the_source_tree_has_migrations() -> None:
    assert SOURCE_SQL, "migrations/ holds no SQL file"
    assert "0001_init.sql" in SOURCE_SQL


def test_the_editable_install_finds_the_top_level_folder() -> None:
    assert DEFAULT_MIGRATIONS_DIR == ROOT / "migrations"
    assert [m.filename for m in discover(DEFAULT_MIGRATIONS_DIR)] == SOURCE_SQL


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the tree: building in place would leave build/ and *.egg-info in the worktree.
    src = tmp_path_factory.mktemp("src")
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = Path(raw.decode())
        if not (ROOT / rel).is_file():
            continue  # deleted in the worktree but still in the index
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes((ROOT / rel).read_bytes())
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (built,) = out.glob("compass_sre-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_carries_every_migration(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        inside = {name: zf.read(name) for name in zf.namelist() if name.endswith(".sql")}
    assert sorted(inside) == [f"compass_migrations/{name}" for name in SOURCE_SQL]
    for name in SOURCE_SQL:
        assert inside[f"compass_migrations/{name}"] == (ROOT / "migrations" / name).read_bytes()


@pytest.mark.slow
def test_an_installed_wheel_finds_its_migrations(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # PYTHONPATH puts the installed copy ahead of the editable checkout (its finder comes last).
    probe = (
        "from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR as d;"
        "from compass_worker.knowledge.migrations import discover;"
        "print(d); print(','.join(m.filename for m in discover(d)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.splitlines()
    assert Path(out[0]) == target / "compass_migrations"
    assert out[1].split(",") == SOURCE_SQL
