"""The test servers' port picker stays out of the range outgoing connections draw their source ports from."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from compass_testing import free_port, ports


def _ephemeral() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    low, _ = _ephemeral()
    for _ in range(20):
        port = free_port()
        assert port < low
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # nothing listens there


def test_free_port_skips_a_port_that_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        busy = taken.getsockname()[1]
        picks = iter([busy, busy, busy + 1 if busy + 1 < _ephemeral()[0] else busy - 1])
        monkeypatch.setattr(ports.random, "randrange", lambda _a, _b: next(picks))
        assert free_port() != busy
