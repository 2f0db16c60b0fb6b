"""Cost tests use the shared embedded PostgreSQL (tests/conftest.py): a fresh migrated database each."""

from __future__ import annotations

import pytest


@pytest.fixture
def cost_db_url(db_url: str) -> str:
    return db_url
