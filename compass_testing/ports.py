"""A free loopback port for a server a test starts, picked below the kernel's ephemeral range.

`bind(("127.0.0.1", 0))` hands out a port from the ephemeral range, the same range outgoing connections
take their source ports from; between closing the probe and the child binding the port, any connection
the test opens (Redis, PostgreSQL, HTTP) can take it, and the child fails with "address already in use"
(uvicorn exits 3). Ports under the range are never given to outgoing connections, so only another
listener can take them, and each pick is checked free first.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000  # above the well-known and registered ports most local services use
_TRIES = 200


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A loopback port nothing listens on, outside the range outgoing connections use."""
    top = _ephemeral_start()
    if top - _LOWEST >= 1_000:
        for _ in range(_TRIES):
            port = random.randrange(_LOWEST, top)
            if _bindable(port):
                return port
    with socket.socket() as s:  # an unusual range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
