"""Unpacking the Nezha archive into the cache, once, safely when several processes ask at the same time.

Only `rca_data/` (the labelled days) and `LICENSE` are extracted: `construct_data/` is the authors'
pre-processing, not telemetry. A marker file holds the archive's fingerprint, so a replaced archive is
unpacked again; extraction goes to a temporary directory renamed into place, so a crash never leaves a
half-unpacked tree that looks complete.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

from compass_lab.nezha.errors import NezhaDataError

MARKER = ".complete"
WANTED = ("rca_data/", "LICENSE")


def fingerprint(archive: Path) -> str:
    try:
        st = archive.stat()
    except OSError as err:
        raise NezhaDataError(
            f"Nezha archive not found: {archive} (set COMPASS_NEZHA_ARCHIVE to nezha-dev.tar.xz)"
        ) from err
    return f"{archive.name}:{st.st_size}:{st.st_mtime_ns}"


@contextlib.contextmanager
def cache_lock(cache: Path) -> Iterator[None]:
    """An exclusive lock on the cache directory (one unpacker or converter at a time)."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for m in tar:
        name = m.name.removeprefix("./")
        if name.startswith(WANTED) and (m.isfile() or m.isdir()):
            m.name = name
            yield m


def unpacked(archive: Path, cache: Path) -> Path:
    """The directory holding the unpacked archive (`rca_data/...`), unpacking it first if needed.
    The caller holds `cache_lock`."""
    fp = fingerprint(archive)
    raw = cache / "raw"
    marker = raw / MARKER
    if marker.is_file() and marker.read_text() == fp:
        return raw
    tmp = cache / f"raw.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            tar.extractall(tmp, members=_members(tar), filter="data")
    except (OSError, tarfile.TarError, EOFError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise NezhaDataError(f"cannot unpack {archive}: {err}") from err
    if not (tmp / "rca_data").is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
        raise NezhaDataError(f"{archive} holds no rca_data/ directory: not the Nezha layout")
    (tmp / MARKER).write_text(fp)
    shutil.rmtree(raw, ignore_errors=True)
    tmp.rename(raw)
    return raw
