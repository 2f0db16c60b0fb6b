"""Where the Nezha archive and its cache live, read from the environment once, when first needed.

- `COMPASS_NEZHA_ARCHIVE`: the `nezha-dev.tar.xz` (default: the first `shared/data/nezha-dev/nezha-dev.tar.xz`
  beside the repository or one of its parents, i.e. `../shared/...` for a checkout next to `shared/`).
- `COMPASS_NEZHA_CACHE_DIR`: where it is unpacked and converted (default `$XDG_CACHE_HOME/compass/nezha-dev`,
  else `~/.cache/compass/nezha-dev`).
- `COMPASS_NEZHA_TRACE_SAMPLE`: the share of traces kept (0 < r ≤ 1, default 0.2), decided per trace id the
  way OpenTelemetry's TraceIdRatioBased sampler does, so that a trace is kept or dropped whole.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ARCHIVE_RELPATH = Path("shared/data/nezha-dev/nezha-dev.tar.xz")
REPO_ROOT = Path(__file__).resolve().parents[2]


class NezhaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPASS_NEZHA_", frozen=True)

    archive: Path | None = None
    cache_dir: Path | None = None
    trace_sample: float = Field(default=0.2, gt=0.0, le=1.0)

    def archive_path(self) -> Path:
        if self.archive is not None:
            return self.archive.expanduser()
        for parent in REPO_ROOT.parents:
            candidate = parent / ARCHIVE_RELPATH
            if candidate.is_file():
                return candidate
        return REPO_ROOT.parent / ARCHIVE_RELPATH

    def cache_path(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir.expanduser()
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg else Path.home() / ".cache"
        return base / "compass" / "nezha-dev"


@functools.cache
def settings() -> NezhaSettings:
    return NezhaSettings()
