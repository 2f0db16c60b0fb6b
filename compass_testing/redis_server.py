"""A throw-away Redis for tests and benchmarks: a private `redis-server` on a free loopback port (no
persistence), or — when the binary is missing — the machine's Redis on 127.0.0.1:6379, database 9."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RedisServer:
    url: str
    private: bool  # True: ours alone (flush freely); False: the machine's, database 9


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _install_redis_server() -> str | None:
    """On a bare Debian machine (CI runs as root) with no Redis at all: install Debian's redis-server
    (an install, then an index refresh and a second try if the first found nothing)."""
    if _answers(6379) or shutil.which("apt-get") is None or os.geteuid() != 0:
        return None
    install = ["apt-get", "install", "-y", "-qq", "redis-server"]
    for cmd in (install, ["apt-get", "update", "-qq"], install):
        subprocess.run(cmd, check=False, capture_output=True, timeout=600)
        if found := shutil.which("redis-server"):
            return found
    return None


@contextmanager
def redis_for_tests() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server") or _install_redis_server()
    if binary is None:
        if not _answers(6379):
            raise RuntimeError(
                "no redis-server binary and no Redis on 127.0.0.1:6379 (apt-get install redis-server)"
            )
        yield RedisServer(url="redis://127.0.0.1:6379/9", private=False)
        return
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="compass-redis-")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.02)
        yield RedisServer(url=f"redis://127.0.0.1:{port}/0", private=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
