"""Shared helpers for the telemetry tests (a uniquely named module, not a conftest)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from compass_worker.telemetry.toolset import JsonValue, ToolInfo, ToolOutcome

HERE = Path(__file__).parent
TOY_SERVER = HERE / "fixtures" / "toy_server.py"
# Captures of the real mcp-grafana 2.1.1 (tools/list and each tool's output), copied from the project's
# shared reference so that these tests never depend on anything outside the repository.
REFERENCE = HERE / "fixtures" / "reference"
RESULTS = REFERENCE / "mcp-grafana-2.1.1-results"


def reference_dir() -> Path:
    return REFERENCE


def capture(name: str) -> str:
    return (reference_dir() / "mcp-grafana-2.1.1-results" / name).read_text(encoding="utf-8").strip()


def grafana_tools() -> list[dict[str, object]]:
    doc = json.loads((reference_dir() / "mcp-grafana-2.1.1-tools.json").read_text(encoding="utf-8"))
    tools: list[dict[str, object]] = doc["tools"]
    return tools


def wait_for_port(port: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout_s}s")


@contextmanager
def http_process(args: list[str], port: int, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run a server process bound to 127.0.0.1:port; yield its /mcp URL; stop it afterwards."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def toy_stdio(*extra: str) -> dict[str, object]:
    return {"command": sys.executable, "args": [str(TOY_SERVER), *extra]}


class RecordingToolset:
    """A fake `Toolset` that answers from canned texts and records every call it receives."""

    def __init__(
        self,
        answers: Mapping[str, str | list[str]] | None = None,
        tools: list[str] | None = None,
        failing: Mapping[str, str] | None = None,
    ) -> None:
        self._answers = {k: list(v) if isinstance(v, list) else [v] for k, v in (answers or {}).items()}
        self._failing = dict(failing or {})
        self._tools = tools or sorted({*self._answers, *self._failing})
        self.calls: list[tuple[str, dict[str, JsonValue]]] = []

    async def list_tools(self) -> list[ToolInfo]:
        return [ToolInfo(server="fake", name=n) for n in self._tools]

    async def call_tool(self, name: str, arguments: Mapping[str, JsonValue]) -> ToolOutcome:
        self.calls.append((name, dict(arguments)))
        tool = name.rpartition("/")[2]
        if tool in self._failing:
            return ToolOutcome(
                server="fake", tool=tool, ok=False, text=self._failing[tool], error=self._failing[tool]
            )
        queue = self._answers.get(tool)
        if not queue:
            return ToolOutcome(server="fake", tool=tool, ok=False, error=f"no canned answer for {tool}")
        text = queue.pop(0) if len(queue) > 1 else queue[0]
        return ToolOutcome(server="fake", tool=tool, ok=True, text=text)
