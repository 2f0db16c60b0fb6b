"""Makes Debian's `prometheus`/`promtool` available to the parity tests (installs the package with apt)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

APT_TIMEOUT_S = 900


def ensure_prometheus() -> None:
    """Install the `prometheus` package when its binaries are missing; skip the test without apt-get."""
    if shutil.which("prometheus") and shutil.which("promtool"):
        return
    if shutil.which("apt-get") is None:
        pytest.skip("prometheus/promtool missing and apt-get unavailable")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "prometheus"]
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    # A fresh machine may have no package lists yet: update only when the first attempt fails.
    if subprocess.run(install, capture_output=True, env=env, timeout=APT_TIMEOUT_S).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=APT_TIMEOUT_S)
        subprocess.run(install, check=True, capture_output=True, env=env, timeout=APT_TIMEOUT_S)
