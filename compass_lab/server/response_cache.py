"""A bounded cache of rendered range-query responses.

A lab scenario's telemetry never changes once built, so a range query with an explicit start and end has
exactly one answer. Benchmarks and the throughput bench investigate the same incidents over and over, and
evaluating PromQL/LogQL plus encoding the JSON is most of the lab's CPU; the cache keeps the lab (a test
fixture sharing the machine with the workers it serves) from dominating what is measured.

Only successful bodies are cached. Entries are keyed by the data they were computed from (compared by
identity, so a rebuilt store never serves a stale body) plus the request's parameters in order, and evicted
least-recently-used once the total body size passes `max_bytes`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

DEFAULT_MAX_BYTES = 64 * 1024 * 1024

Key = tuple[str, tuple[tuple[str, str], ...]]


class ResponseCache:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, Key], tuple[object, bytes]] = OrderedDict()
        self._size = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(route: str, params: Sequence[tuple[str, str]]) -> Key:
        return route, tuple(params)

    def get(self, source: object, key: Key) -> bytes | None:
        slot = (id(source), key)
        entry = self._entries.get(slot)
        if entry is None or entry[0] is not source:  # an id reused by a newer object is a miss
            self.misses += 1
            return None
        self._entries.move_to_end(slot)
        self.hits += 1
        return entry[1]

    def put(self, source: object, key: Key, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        slot = (id(source), key)
        old = self._entries.pop(slot, None)
        if old is not None:
            self._size -= len(old[1])
        self._entries[slot] = (source, body)
        self._size += len(body)
        while self._size > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._size -= len(dropped)

    @property
    def size_bytes(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._entries)
