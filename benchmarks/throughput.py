"""Investigations/min of `compass worker` processes (LLM off) on lab incidents, with CPU per process.

Used by benchmarks/alerts.py. Each run starts N worker processes per lab incident (a worker reads one
MCP config, which points at one lab scenario), enqueues alert-style investigation jobs, and waits for
every one to finish. Wall-clock throughput on a shared 2-core machine depends on whatever else runs, so
CPU seconds are measured per process, from /proc via psutil:

- worker: the `compass worker` processes themselves (engine, MCP client, Slack posts, store writes);
- mcp-grafana: the processes the workers spawn (alive or already reaped);
- lab: this process (the lab's Grafana/Prometheus/Loki/Tempo API runs in a thread here);
- redis + postgres: the private servers this benchmark started.

"worker side per core" is 60 s divided by the worker + mcp-grafana CPU seconds of one investigation: the
rate one dedicated core would sustain with the telemetry backend elsewhere.

Run alone (its own PostgreSQL, Redis and fake Slack), optionally against an earlier revision side by side:

    .venv/bin/python benchmarks/throughput.py [--workers 1 2 4] [--investigations 40] [--baseline main]

With --baseline, each worker count runs that revision's workers (its tree from `git archive`, first on
PYTHONPATH) and then this tree's, one after the other under the same load; the load average is printed
with every line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import asyncpg
import psutil
from arq.connections import ArqRedis

from compass_lab.harness import lab_server
from compass_lab.model import Scenario, Split
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, all_scenarios, get_scenario
from compass_lab.server.runner import mcp_config
from compass_testing import FakeSlack, redis_for_tests
from compass_worker.contracts import InvestigateRequest, JobName, SlackThread, job_id
from compass_worker.knowledge.embedded import EmbeddedPostgres
from compass_worker.knowledge.migrations import migrate
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

SLACK_TOKEN = "xoxb-bench"
MAX_WAIT_S = 900.0


def incidents(count: int) -> list[Scenario]:
    """The showcase incident, then dev-split incidents spread evenly over the library (deterministic)."""
    first = get_scenario(DEFAULT_SCENARIO_ID)
    others = [s for s in all_scenarios(Split.DEV) if s.id != first.id]
    stride = max(1, len(others) // max(1, count - 1))
    return [first, *others[::stride]][:count]


def _cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return float(t.user + t.system)


@dataclass
class Cpu:
    """CPU seconds by role, as a snapshot (subtract two of them for a delta)."""

    worker: float = 0.0
    mcp: float = 0.0
    lab: float = 0.0
    stores: float = 0.0

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.worker - other.worker, self.mcp - other.mcp, self.lab - other.lab, self.stores - other.stores
        )

    def __add__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.worker + other.worker, self.mcp + other.mcp, self.lab + other.lab, self.stores + other.stores
        )


def snapshot(worker_pids: Sequence[int], db_url: str) -> Cpu:
    me = psutil.Process()
    cpu = Cpu(lab=_cpu(me))
    ours = set(worker_pids)
    for pid in worker_pids:
        with_children = _worker_cpu(pid)
        cpu.worker += with_children[0]
        cpu.mcp += with_children[1]
    stores = [*me.children(recursive=True), *_postgres(db_url)]  # redis-server is ours; postgres daemonises
    for child in stores:
        if child.pid in ours or any(p.pid in ours for p in _parents(child)):
            continue
        with contextlib.suppress(psutil.Error):
            cpu.stores += _cpu(child)
    return cpu


def _postgres(db_url: str) -> list[psutil.Process]:
    """The embedded PostgreSQL's processes: the postmaster started on the socket directory in `db_url`."""
    url = unquote(db_url)
    found: list[psutil.Process] = []
    for p in psutil.process_iter(["name", "cmdline"]):
        args = p.info.get("cmdline") or []
        if p.info.get("name") == "postgres" and any(a.startswith("/") and a in url for a in args[1:]):
            found.append(p)
            with contextlib.suppress(psutil.Error):
                found.extend(p.children(recursive=True))
    return found


def _parents(p: psutil.Process) -> list[psutil.Process]:
    try:
        return list(p.parents())
    except psutil.Error:
        return []


def _worker_cpu(pid: int) -> tuple[float, float]:
    """(the worker's own CPU, its children's: reaped ones from /proc/<pid>/stat plus live ones)."""
    try:
        p = psutil.Process(pid)
        t = p.cpu_times()
        live = 0.0
        for c in p.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                live += _cpu(c)
        return float(t.user + t.system), float(t.children_user + t.children_system) + live
    except psutil.Error:
        return 0.0, 0.0


@dataclass
class Totals:
    done: int = 0
    verdicts: int = 0
    wall: float = 0.0
    cpu: Cpu = field(default_factory=Cpu)


async def one_incident(
    scenario: Scenario,
    workers: int,
    count: int,
    tag: str,
    env: dict[str, str],
    db_url: str,
    redis_url: str,
) -> Totals:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "compass_cli.main",
            "worker",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    pids = [p.pid for p in procs]
    redis = ArqRedis.from_url(redis_url)
    conn = await asyncpg.connect(db_url)
    channel = f"CBENCH{tag}"
    key = f"slack:{channel}:%"
    try:
        for _ in range(600):  # every worker process up (ARQ writes its health-check key on start)
            if await redis.exists("arq:queue:health-check"):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(4)  # the slower processes finish importing
        before = snapshot(pids, db_url)
        started = time.perf_counter()
        for i in range(count):
            thread = SlackThread(channel=channel, thread_ts=f"1800000000.{i:06d}")
            req = InvestigateRequest(
                thread=thread, text=scenario.symptom, user="alert:bench", at=scenario.at, trigger="alert"
            )
            await redis.enqueue_job(
                JobName.INVESTIGATE,
                req.model_dump(mode="json"),
                _job_id=job_id(JobName.INVESTIGATE, thread.investigation_key),
            )
        done = 0
        deadline = started + MAX_WAIT_S
        while time.perf_counter() < deadline:
            done = await conn.fetchval(
                "SELECT count(*) FROM investigations WHERE idempotency_key LIKE $1 AND status <> 'running'",
                key,
            )
            if done >= count:
                break
            await asyncio.sleep(0.2)
        wall = time.perf_counter() - started
        used = snapshot(pids, db_url) - before
        verdicts = await conn.fetchval(
            """SELECT count(*) FROM verdicts d JOIN investigations v ON v.id = d.investigation_id
               WHERE v.idempotency_key LIKE $1""",
            key,
        )
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            await p.wait()
        await conn.close()
        await redis.flushdb()
        await redis.aclose()
    return Totals(done, verdicts, wall, used)


async def throughput(
    workers: Sequence[int],
    total: int,
    incident_count: int,
    db_url: str,
    redis_url: str,
    slack_url: str,
    tmp: Path,
    *,
    baseline: tuple[str, Path] | None = None,
) -> list[str]:
    """One header line, then a line per worker count (printed as they come). With `baseline` (a label and
    a source tree), each worker count first runs workers importing that tree, then this one's."""
    chosen = incidents(incident_count)
    per = max(1, total // len(chosen))
    lines = [
        f"investigations/min · {per * len(chosen)} alert-triggered investigations per worker count over "
        f"{len(chosen)} lab incidents ({', '.join(s.id for s in chosen)}), LLM off, each worker process "
        "runs up to 8 at once; CPU-s per investigation by process (from /proc; the machine is shared)"
    ]
    print(lines[0], flush=True)
    base_env = {
        **os.environ,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "COMPASS_SLACK_API_URL": slack_url,
        "REDIS_URL": redis_url,
        "DATABASE_URL": db_url,
        "COMPASS_EMBEDDER": "hashing",  # memory is consulted; a light embedder keeps 4 processes small
        "COMPASS_LLM": "none",
        "COMPASS_STATUS_INTERVAL_S": "1",
    }
    with lab_server(chosen, chosen[0].id) as lab:
        for scenario in chosen:  # build each incident's telemetry now, not inside the first measured run
            lab.registry.data(scenario.id)
        trees: list[tuple[str, dict[str, str]]] = [("", {})]
        if baseline is not None:
            label, tree = baseline
            trees = [(f"  [{label}]", {"PYTHONPATH": str(tree)}), ("  [this tree]", {})]
        for n in workers:
            for label, extra in trees:
                load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
                sums = Totals()
                for k, scenario in enumerate(chosen):
                    mcp_file = tmp / f"mcp-{scenario.id}.json"
                    mcp_file.write_text(json.dumps(mcp_config(lab.url, scenario.id)))
                    env = {**base_env, **extra, "COMPASS_MCP_CONFIG": str(mcp_file)}
                    tag = f"{n}x{k}{'b' if extra else ''}"
                    got = await one_incident(scenario, n, per, tag, env, db_url, redis_url)
                    sums = Totals(
                        sums.done + got.done,
                        sums.verdicts + got.verdicts,
                        sums.wall + got.wall,
                        sums.cpu + got.cpu,
                    )
                line = format_line(n, per * len(chosen), sums)
                line = f"{label} {line.strip()} · {load}" if label else f"{line} · {load}"
                lines.append(line)
                print(line, flush=True)
    return lines


def format_line(workers: int, asked: int, t: Totals) -> str:
    rate = t.done / t.wall * 60 if t.wall > 0 else 0.0
    each = max(1, t.done)
    worker, mcp, lab, stores = (t.cpu.worker / each, t.cpu.mcp / each, t.cpu.lab / each, t.cpu.stores / each)
    side = worker + mcp
    per_core = 60 / side if side > 0 else 0.0
    return (
        f"  {workers} worker process(es): {t.done}/{asked} finished ({t.verdicts} verdicts) "
        f"in {t.wall:.1f} s "
        f"→ {rate:.1f} investigations/min · CPU-s per investigation: worker {worker:.2f}, mcp-grafana "
        f"{mcp:.2f}, lab {lab:.2f}, redis+postgres {stores:.2f} · worker side per core "
        f"{per_core:.0f}/min"
    )


def export_tree(rev: str, into: Path) -> Path:
    """`rev`'s source tree (git archive) in `into`, for workers that run it."""
    root = Path(__file__).resolve().parent.parent
    try:
        data = subprocess.run(["git", "archive", rev], cwd=root, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"--baseline {rev}: {exc.stderr.decode(errors='replace').strip()}") from None
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


async def standalone(args: argparse.Namespace, db_url: str, tmp: Path) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await migrate(conn, DEFAULT_MIGRATIONS_DIR)
    finally:
        await conn.close()
    baseline = (args.baseline, export_tree(args.baseline, tmp / "baseline")) if args.baseline else None
    with redis_for_tests() as redis_server:
        fake = FakeSlack(SLACK_TOKEN)
        await fake.start()
        try:
            await throughput(
                args.workers,
                args.investigations,
                args.incidents,
                db_url,
                redis_server.url,
                fake.base_url,
                tmp,
                baseline=baseline,
            )
        finally:
            await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investigations", type=int, default=40, help="investigations per worker count")
    parser.add_argument("--incidents", type=int, default=4, help="lab incidents the investigations cover")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--baseline", metavar="REV", help="also run this revision's workers")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="compass-tput-"))
    server = EmbeddedPostgres(tmp / "pg", cleanup="delete")
    try:
        asyncio.run(standalone(args, server.start(), tmp))
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
