"""Run the lab API in a background thread (tests, benchmarks, `compass lab serve`) and build MCP configs."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import anyio.to_thread
import uvicorn

from compass_lab.server.app import create_app
from compass_lab.server.registry import LabRegistry

_START_TIMEOUT_S = 10.0


class LabServerError(RuntimeError):
    """The lab server could not start (port in use, bind refused, start-up timeout)."""


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free port. Raises LabServerError when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise LabServerError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    sock.listen(128)
    return sock


class LabServer:
    """Serves a `LabRegistry` on 127.0.0.1 (a free port by default) until closed.

    Usable as `with LabServer(reg) as srv:` or `async with LabServer(reg) as srv:`; `srv.url` is the root.
    """

    def __init__(self, registry: LabRegistry, host: str = "127.0.0.1", port: int = 0) -> None:
        self.registry = registry
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise LabServerError("the lab server is not running")
        return f"http://{self.host}:{self.port}"

    def scenario_url(self, scenario_id: str) -> str:
        return f"{self.url}/s/{scenario_id}"

    def start(self) -> None:
        if self._server is not None:
            raise LabServerError("the lab server is already running")
        sock = bind_socket(self.host, self.port)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            create_app(self.registry),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="compass-lab", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise LabServerError("the lab server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> LabServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> LabServer:
        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)


def mcp_grafana_command() -> str:
    """The mcp-grafana executable: the Go binary bundled in the installed `mcp_grafana` wheel, else the
    `mcp-grafana` script next to this Python, else whatever is on PATH.

    The wheel's script is a Python program that only execs the bundled binary; starting the binary
    directly skips one Python start-up per investigation (about 0.035 CPU-s, measured on the lab).
    """
    try:
        import mcp_grafana

        bundled = Path(mcp_grafana.get_binary_path())
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    except (ImportError, OSError):
        pass
    beside = Path(sys.executable).parent / "mcp-grafana"
    if beside.exists():
        return str(beside)
    found = shutil.which("mcp-grafana")
    return found or "mcp-grafana"


def grafana_env(url: str, scenario_id: str | None = None) -> dict[str, str]:
    base = url.rstrip("/")
    return {
        "GRAFANA_URL": f"{base}/s/{scenario_id}" if scenario_id else base,
        # mcp-grafana otherwise reports anonymous usage statistics to Grafana Labs on start.
        "GRAFANA_USAGE_STATS": "disabled",
    }


def mcp_config(url: str, scenario_id: str | None = None) -> dict[str, object]:
    """An `mcpServers` config that runs the real mcp-grafana (stdio) against the lab at `url`."""
    return {
        "mcpServers": {
            "grafana": {"command": mcp_grafana_command(), "args": [], "env": grafana_env(url, scenario_id)}
        }
    }
