"""Where one process' investigation time goes (developer aid, not a test): lab incidents investigated one
after the other through the real mcp-grafana, LLM off, with per-investigation sessions and with a
worker's `SessionPool`.

    .venv/bin/python scripts/profile_investigations.py [--rounds 3] [--profile out.prof]

Prints, per mode: wall seconds and CPU seconds per investigation of the investigating thread (engine,
MCP client, parsing; the lab's API runs in another thread and is left out) and of mcp-grafana (children,
counted once they exit, so a pool is closed before reading), and what opening the sessions alone costs.
`--profile` writes a cProfile of the pooled run timed by thread CPU (Python-heavy code reads several
times slower under cProfile than it runs; C calls such as pydantic-core's read true).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from throughput import incidents  # benchmarks/ is not a package

from compass_lab.harness import incident_for, lab_server, scenario_mcp_config
from compass_worker.domain.events import Event
from compass_worker.runner import Catalogs, investigate
from compass_worker.settings import Settings
from compass_worker.telemetry.config import McpConfig
from compass_worker.telemetry.session import open_toolsets
from compass_worker.telemetry.shared import SessionPool


class _Discard:
    async def emit(self, event: Event) -> None:
        return None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _measure(label: str, count: int, body: Callable[[], Awaitable[None]]) -> None:
    wall, cpu, children = time.perf_counter(), time.thread_time(), _children_cpu()
    await body()
    wall, cpu, children = (
        time.perf_counter() - wall,
        time.thread_time() - cpu,
        _children_cpu() - children,
    )
    print(
        f"{label}: {count} × {wall / count:.3f} s wall · CPU-s each: investigating thread "
        f"{cpu / count:.3f}, mcp-grafana {children / count:.3f}",
        flush=True,
    )


async def _opens(config: McpConfig, count: int) -> None:
    for _ in range(count):
        async with open_toolsets(config) as toolset:
            await toolset.list_tools()


async def main(rounds: int, profile: Path | None) -> None:
    chosen = incidents(4)
    settings = Settings()
    catalogs = Catalogs.load(settings)
    with lab_server(chosen, chosen[0].id) as lab:
        for scenario in chosen:
            lab.registry.data(scenario.id)  # build the telemetry outside the measurements
        configs = {s.id: scenario_mcp_config(lab.url, s) for s in chosen}
        n = rounds * len(chosen)
        await _measure("open + tools/list + close alone", 10, lambda: _opens(configs[chosen[0].id], 10))

        async def fresh() -> None:
            for scenario in chosen:
                for _ in range(rounds):
                    cfg = configs[scenario.id]
                    await investigate(incident_for(scenario), cfg, settings, _Discard(), catalogs=catalogs)

        async def pooled() -> None:
            for scenario in chosen:
                pool = SessionPool(configs[scenario.id], call_timeout_s=settings.tool_timeout_s)
                try:
                    for _ in range(rounds):
                        await investigate(
                            incident_for(scenario),
                            pool.config,
                            settings,
                            _Discard(),
                            catalogs=catalogs,
                            sessions=pool,
                        )
                finally:
                    await pool.aclose()

        await _measure("investigations, sessions per investigation", n, fresh)
        profiler = cProfile.Profile(time.thread_time) if profile else None
        if profiler is not None:
            profiler.enable()
        await _measure("investigations, one SessionPool per incident", n, pooled)
        if profiler is not None and profile is not None:
            profiler.disable()
            profiler.dump_stats(profile)
            print(f"cProfile of the pooled run: {profile}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="investigations per incident and mode")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the pooled run here")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    asyncio.run(main(args.rounds, args.profile))
