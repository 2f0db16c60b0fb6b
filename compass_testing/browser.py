"""Debian's chromium for browser tests (Playwright drives it through `executable_path`): the machine's, or —
on a bare Debian machine where CI runs as root — installed with apt, as redis_server.py does for Redis.
Never a browser download (there is no network but the package registries)."""

from __future__ import annotations

import os
import shutil
import subprocess

CHROMIUM = "/usr/bin/chromium"


def chromium_for_tests() -> str:
    """The path of a chromium binary; RuntimeError (saying how to get one) when there is none."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if shutil.which("apt-get") is not None and os.geteuid() == 0:
        # The emoji font: feedback shows ✅ / ❌, which would otherwise render as empty boxes in screenshots.
        install = ["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-color-emoji"]
        for cmd in (install, ["apt-get", "update", "-qq"], install):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(cmd, check=False, capture_output=True, timeout=900, env=env)
            if os.path.exists(CHROMIUM):
                return CHROMIUM
    raise RuntimeError(f"no {CHROMIUM} (apt-get install chromium)")
