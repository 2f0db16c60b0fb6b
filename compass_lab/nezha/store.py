"""The converted recording, per day: made on first use (unpack, then convert, under a lock) and loaded
from the cache afterwards. One store per settings; loaded days stay in memory for the process's life."""

from __future__ import annotations

import functools
import shutil
import threading
from pathlib import Path

from compass_lab.nezha.archive import cache_lock, fingerprint, unpacked
from compass_lab.nezha.convert import (
    FORMAT_VERSION,
    DayLogs,
    DayMetrics,
    DaySpans,
    Manifest,
    convert_day,
    load_logs,
    load_manifest,
    load_metrics,
    load_spans,
)
from compass_lab.nezha.layout import DAYS, Day
from compass_lab.nezha.settings import NezhaSettings

MARKER = ".complete"


class NezhaStore:
    def __init__(self, settings: NezhaSettings) -> None:
        self.settings = settings
        self.archive = settings.archive_path()
        self.cache = settings.cache_path()
        self._lock = threading.Lock()

    @property
    def compact_root(self) -> Path:
        return self.cache / f"compact-v{FORMAT_VERSION}"

    def _ready(self, fp: str) -> bool:
        return all((self.compact_root / d.date / MARKER).is_file() for d in DAYS) and all(
            (self.compact_root / d.date / MARKER).read_text() == fp for d in DAYS
        )

    @functools.cached_property
    def root(self) -> Path:
        """The compact form of every day, converted from the archive when missing or stale."""
        with self._lock:
            fp = fingerprint(self.archive)
            if self._ready(fp):
                return self.compact_root
            with cache_lock(self.cache):
                if not self._ready(fp):  # another process may have converted it meanwhile
                    raw = unpacked(self.archive, self.cache)
                    for day in DAYS:
                        out = self.compact_root / day.date
                        tmp = self.compact_root / f"{day.date}.tmp"
                        shutil.rmtree(tmp, ignore_errors=True)
                        convert_day(raw, day.date, day.namespace, tmp)
                        (tmp / MARKER).write_text(fp)
                        shutil.rmtree(out, ignore_errors=True)
                        tmp.rename(out)
            return self.compact_root

    @functools.cache  # noqa: B019 - one store per process; days are few and meant to stay loaded
    def manifest(self, day: Day) -> Manifest:
        return load_manifest(self.root / day.date)

    @functools.cache  # noqa: B019
    def metrics(self, day: Day) -> DayMetrics:
        return load_metrics(self.root / day.date)

    @functools.cache  # noqa: B019
    def spans(self, day: Day) -> DaySpans:
        return load_spans(self.root / day.date)

    @functools.cache  # noqa: B019
    def logs(self, day: Day) -> DayLogs:
        return load_logs(self.root / day.date)
