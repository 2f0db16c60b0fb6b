"""Knowledge-store fixtures beyond the shared database ones in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """A private copy of migrations/ that a test may edit."""
    target = tmp_path / "migrations"
    target.mkdir()
    for path in DEFAULT_MIGRATIONS_DIR.glob("*.sql"):
        (target / path.name).write_bytes(path.read_bytes())
    return target
