"""Running the real `compass` command as a subprocess, in a clean environment (no user config, no LLM)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COMPASS = [sys.executable, "-m", "compass_cli.main"]
# What a child may inherit: nothing that points at a real service, a model or the user's config.
_KEEP = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in _KEEP if k in os.environ}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), COMPASS_EMBEDDER="hashing")
    env.update(extra)
    return env


def compass(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMPASS, *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """stderr must be exactly one line, with the one prefix, and no traceback."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("compass: error: "), lines[0]
    assert "Traceback" not in proc.stderr
    return lines[0]


def into_closed_pipe(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout a pipe whose reader is already gone (`compass … | head` at its worst): (rc, stderr)."""
    proc = subprocess.Popen([*COMPASS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # every write now fails with EPIPE
    with proc.stderr:
        err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def in_terminal(*args: str, env: dict[str, str], timeout: float = 240) -> tuple[int, str]:
    """Run attached to a pseudo-terminal (what a person sees): (rc, everything written to the terminal)."""
    import os
    import pty
    import select
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen([*COMPASS, *args], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace")
