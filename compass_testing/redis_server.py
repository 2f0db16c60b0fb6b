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

from compass_testing.ports import free_port


@dataclass(frozen=True)
class RedisServer:
    url: str
    private: bool  # True: ours alone (flush freely); False: the machine's, database 9


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


class RedisProcess:
    """A private redis-server on a fixed loopback port that can be stopped and started again (the chaos
    tests restart it under a running worker). `appendonly` turns on AOF, as production should run it."""

    def __init__(self, binary: str, *, appendonly: bool = False) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._binary = binary
        self._appendonly = appendonly
        self._workdir = tempfile.mkdtemp(prefix="compass-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        args = [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self._workdir]
        args += ["--save", "", "--appendonly", "yes" if self._appendonly else "no"]
        if self._appendonly:
            args += ["--appendfsync", "always"]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not _answers(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self, *, kill: bool = False) -> None:
        if self._proc is None:
            return
        if kill:
            self._proc.kill()
        else:
            self._proc.terminate()
        self._proc.wait(timeout=10)
        self._proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)


def redis_binary() -> str | None:
    return shutil.which("redis-server") or _install_redis_server()


@contextmanager
def restartable_redis(*, appendonly: bool = False) -> Iterator[RedisProcess]:
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("no redis-server binary (apt-get install redis-server)")
    server = RedisProcess(binary, appendonly=appendonly)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@contextmanager
def redis_for_tests() -> Iterator[RedisServer]:
    binary = redis_binary()
    if binary is None:
        if not _answers(6379):
            raise RuntimeError(
                "no redis-server binary and no Redis on 127.0.0.1:6379 (apt-get install redis-server)"
            )
        yield RedisServer(url="redis://127.0.0.1:6379/9", private=False)
        return
    with restartable_redis() as server:
        yield RedisServer(url=server.url, private=True)
