"""Alerts benchmark (not a test): ingest, investigation throughput, noise reduction, wrong merges and
classification, measured side by side in one run on loopback.

    .venv/bin/python benchmarks/alerts.py [--ingest 2000] [--investigations 40] [--incidents 4]
                                          [--workers 1 2 4]

- ingest: `compass bot` as its own process (uvicorn) with an embedded PostgreSQL + pgvector and a private
  redis-server; single-alert Alertmanager bodies from 4 concurrent senders. Each request is authenticated,
  validated, written in one transaction and enqueued before its 202. Then every body again: all absorbed.
- investigations/min: 1, 2 and 4 `compass worker` processes (LLM off) investigating several lab incidents
  through the real mcp-grafana, with CPU seconds per investigation per process (benchmarks/throughput.py).
- noise reduction and wrong merges: labelled lab alert storms (benchmarks/alert_storms.py) replayed through
  the workers' grouping (the same store code and embedder as production) at three incident rates, twice
  side by side: on the alerts alone, and with each incident's investigation naming its cause
  `--verdict-delay` seconds after the incident opened (as `compass worker` pins it). The verdicts are the
  engine's own, recorded by `compass lab bench` on the lab's scenarios (`--verdicts`, default
  benchmarks/data/lab_verdicts.json; `--record-verdicts BENCH_JSON` refreshes it): wrong and inconclusive
  verdicts included.
- classification: severity and category of every storm alert against its label.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
from alert_storms import (  # benchmarks/ is on sys.path as the script's folder
    StormAlert,
    dependency_map,
    storms,
)
from arq.connections import ArqRedis
from throughput import throughput

from compass_bot.webhooks.inbox import AlertInbox
from compass_bot.webhooks.models import AlertRow
from compass_lab.model import Scenario, ScenarioKind, Split
from compass_lab.scenarios import all_scenarios
from compass_testing import FakeSlack, redis_for_tests
from compass_worker.alerts.classify import Classification, classify
from compass_worker.alerts.grouping import DependencyGraph
from compass_worker.alerts.settings import AlertSettings
from compass_worker.alerts.store import AlertIncidentStore, StoredAlert
from compass_worker.knowledge.database import create_pool
from compass_worker.knowledge.embedded import EmbeddedPostgres
from compass_worker.knowledge.embedders.select import build_embedder
from compass_worker.knowledge.migrations import migrate
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR, KnowledgeSettings

SLACK_TOKEN = "xoxb-bench"
AM_TOKEN = "bench-am-token"
EMBEDDER = build_embedder(KnowledgeSettings())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def body(i: int) -> dict[str, object]:
    start = datetime.fromtimestamp(1.8e9 + i, UTC).isoformat().replace("+00:00", "Z")
    labels = {"alertname": "HighErrorRate", "service": f"svc-{i % 40}", "severity": "critical"}
    return {
        "version": "4",
        "status": "firing",
        "receiver": "compass",
        "groupKey": f'{{}}:{{alertname="HighErrorRate", service="svc-{i % 40}"}}',
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"svc-{i % 40}: 5xx ratio above 5%"},
                "startsAt": start,
                "fingerprint": f"{i:016x}",
            }
        ],
    }


# -- ingest ------------------------------------------------------------------------------------------------
async def ingest(n: int, senders: int, db_url: str, redis_url: str, slack_url: str) -> list[str]:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": "bench",
        "COMPASS_SLACK_API_URL": slack_url,
        "REDIS_URL": redis_url,
        "DATABASE_URL": db_url,
        "COMPASS_ALERTMANAGER_TOKEN": AM_TOKEN,
    }
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "compass_cli.main", "bot", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {AM_TOKEN}"}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    absorbed = 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            for i in range(20):  # warm-up: connections, the database pool
                await http.post("/webhooks/alertmanager", json=body(10**9 + i), headers=headers)
            sequential: list[float] = []  # one sender: the latency of an ingest alone
            for i in range(n, n + n // 4):
                t0 = time.perf_counter()
                resp = await http.post("/webhooks/alertmanager", json=body(i), headers=headers)
                sequential.append(time.perf_counter() - t0)
                statuses[resp.status_code] += 1
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(n):
                queue.put_nowait(i)

            async def sender() -> None:
                while not queue.empty():
                    i = queue.get_nowait()
                    t0 = time.perf_counter()
                    resp = await http.post("/webhooks/alertmanager", json=body(i), headers=headers)
                    latencies.append(time.perf_counter() - t0)
                    statuses[resp.status_code] += 1

            started = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(senders)))
            wall = time.perf_counter() - started
            for i in range(0, n, max(1, n // 200)):  # redeliveries (Alertmanager's repeat_interval)
                resp = await http.post("/webhooks/alertmanager", json=body(i), headers=headers)
                absorbed += resp.json()["duplicates"]
    finally:
        bot.terminate()
        await bot.wait()
    conn = await asyncpg.connect(db_url)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM alerts")
        outbox = await conn.fetchval("SELECT count(*) FROM alerts WHERE enqueued_at IS NULL")
    finally:
        await conn.close()
    redis = ArqRedis.from_url(redis_url)
    queued = await redis.zcard("arq:queue")
    await redis.flushdb()
    await redis.aclose()
    ms = [x * 1000 for x in latencies]
    one = [x * 1000 for x in sequential]
    return [
        f"ingest · {n} single-alert Alertmanager bodies, {senders} concurrent senders, HTTP to `compass bot`",
        f"  sustained rate {n / wall * 60:,.0f} alerts/min ({n / wall:,.0f}/s) · statuses {dict(statuses)}",
        f"  latency under that load: p50 {pct(ms, 0.5):.1f} ms  p90 {pct(ms, 0.9):.1f} ms  "
        f"p99 {pct(ms, 0.99):.1f} ms  max {max(ms):.1f} ms  mean {statistics.fmean(ms):.1f} ms",
        f"  latency, one sender ({len(one)} bodies): p50 {pct(one, 0.5):.1f} ms  p90 {pct(one, 0.9):.1f} ms  "
        f"p99 {pct(one, 0.99):.1f} ms  max {max(one):.1f} ms",
        f"  persisted {stored} rows, jobs in Redis {queued}, left in the outbox {outbox}; "
        f"redeliveries absorbed {absorbed} of {len(range(0, n, max(1, n // 200)))}",
    ]


# -- noise reduction and wrong merges ------------------------------------------------------------------------
def row(a: StormAlert) -> AlertRow:
    labels = a.labels()
    return AlertRow(
        source="alertmanager",
        fingerprint=a.fingerprint,
        starts_at=datetime.fromtimestamp(a.at, UTC),
        ends_at=None,
        status="firing",
        name=a.template.name,
        summary=a.summary,
        labels=labels,
        annotations={"summary": a.summary, "description": a.summary},
        # Alertmanager's usual route: group_by [alertname, cluster, service]
        group_key=f'{{}}:{{alertname="{a.template.name}", cluster="{a.system}", service="{a.component}"}}',
        generator_url=None,
    )


@dataclass(frozen=True)
class NoiseResult:
    alerts: int
    incidents: int
    wrong: int  # alerts in an incident whose majority is another storm
    mixed: int  # incidents holding alerts of more than one storm
    split: int  # storms spread over more than one incident
    grouped_by: Counter[str]
    # Each wrongly merged alert, by how it joined: "<grouped_by> <pinned|unpinned> <where>" (see `_why`).
    why: Counter[str]

    @property
    def reduction(self) -> float:
        return 1 - self.incidents / self.alerts

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.alerts


@dataclass(frozen=True)
class Pinning:
    """Recorded verdicts (scenario id → the root component named; absent: inconclusive) and how long
    after an incident opens its investigation's verdict arrives."""

    causes: dict[str, str]
    delay_s: float


def recorded_verdicts(path: Path) -> dict[str, str]:
    """scenario id → the component a `root_cause` verdict named, from a `compass lab bench` JSON (full or
    trimmed by --record-verdicts)."""
    out: dict[str, str] = {}
    for r in json.loads(path.read_text())["rows"]:
        component = r["component"] if "component" in r else (r["ranked"][0][0] if r["ranked"] else None)
        if r["verdict"] == "root_cause" and component:
            out[r["scenario_id"]] = component
    return out


def record_verdicts(bench_json: Path, out: Path) -> None:
    rows = [
        {
            "scenario_id": r["scenario_id"],
            "verdict": r["verdict"],
            "component": r["ranked"][0][0] if r["ranked"] else None,
            "fault": r["ranked"][0][1] if r["ranked"] else None,
            "verdict_s": r["verdict_s"],
        }
        for r in json.loads(bench_json.read_text())["rows"]
    ]
    note = f"trimmed from {bench_json.name} by benchmarks/alerts.py --record-verdicts"
    out.write_text(json.dumps({"recorded": note, "rows": rows}, indent=0))


async def replay(
    db_url: str, alerts: list[StormAlert], graph: DependencyGraph, pinning: Pinning | None = None
) -> NoiseResult:
    """One storm timeline through the workers' grouping (the same store code and embedder). With
    `pinning`, each incident's cause is set as its investigation would set it: the verdict on the
    incident's first alert's storm, `delay_s` after it opened."""
    pool = await create_pool(db_url)
    store = AlertIncidentStore(pool, EMBEDDER)
    policy = AlertSettings().policy(graph)  # the workers' defaults (windows, similarity)
    scenario_of = {a.fingerprint: a.scenario for a in alerts}
    pending: list[tuple[float, UUID, str]] = []  # (when the verdict arrives, incident, its cause)
    pinned: set[UUID] = set()
    joined_pinned: dict[str, bool] = {}  # fingerprint → its incident's cause was named when it joined
    try:
        await pool.execute("TRUNCATE alerts, alert_incidents")
        refs = await AlertInbox(pool, None).accept([row(a) for a in alerts])  # type: ignore[arg-type]
        for ref in refs:  # in startsAt order, as the workers would meet them
            stored = await store.alert(ref.alert_id)
            assert stored is not None
            now = stored.starts_at.timestamp()
            for due in [p for p in pending if p[0] <= now]:
                await store.pin_cause(due[1], due[2], policy, classify_alert, lambda _: None)
                pinned.add(due[1])
                pending.remove(due)
            got = await store.assign(stored, policy, classify_alert, lambda _: None)
            joined_pinned[stored.fingerprint] = got.incident.id in pinned
            cause = pinning.causes.get(scenario_of[stored.fingerprint]) if pinning else None
            if got.created and pinning is not None and cause is not None:
                pending.append((now + pinning.delay_s, got.incident.id, cause))
        rows = await pool.fetch("SELECT fingerprint, incident_id, grouped_by FROM alerts")
    finally:
        await pool.close()
    truth = {a.fingerprint: a.scenario for a in alerts}
    members: dict[object, list[str]] = defaultdict(list)
    incidents_of: dict[str, set[object]] = defaultdict(set)
    for r in rows:
        members[r["incident_id"]].append(truth[r["fingerprint"]])
        incidents_of[truth[r["fingerprint"]]].add(r["incident_id"])
    majority = {i: Counter(m).most_common(1)[0][0] for i, m in members.items()}
    by_fp = {a.fingerprint: a for a in alerts}
    why: Counter[str] = Counter()
    for r in rows:
        if truth[r["fingerprint"]] != majority[r["incident_id"]]:
            a = by_fp[r["fingerprint"]]
            why[
                f"{r['grouped_by']} {'pinned' if joined_pinned.get(a.fingerprint) else 'unpinned'} "
                f"{_where(a, majority[r['incident_id']], alerts, graph)}"
            ] += 1
    return NoiseResult(
        alerts=len(rows),
        incidents=len(members),
        wrong=sum(len(m) - Counter(m).most_common(1)[0][1] for m in members.values()),
        mixed=sum(1 for m in members.values() if len(set(m)) > 1),
        split=sum(1 for s in incidents_of.values() if len(s) > 1),
        grouped_by=Counter(r["grouped_by"] for r in rows),
        why=why,
    )


def _where(a: StormAlert, host: str, alerts: list[StormAlert], graph: DependencyGraph) -> str:
    """Where a wrongly merged alert sits relative to the host storm's true cause (its first alert's
    component, the cause template's): same component, a caller of it, a callee, or unrelated."""
    cause = min((x for x in alerts if x.scenario == host), key=lambda x: x.at).component
    if a.component == cause:
        return "same-component"
    if graph.calls(a.component, cause):
        return "caller-of-cause"
    if graph.calls(cause, a.component):
        return "callee-of-cause"
    return "unrelated"


def classify_alert(x: StoredAlert) -> Classification:
    return classify(x.name, x.summary, x.labels, x.annotations)


def _sum(results: list[NoiseResult]) -> NoiseResult:
    return NoiseResult(
        alerts=sum(r.alerts for r in results),
        incidents=sum(r.incidents for r in results),
        wrong=sum(r.wrong for r in results),
        mixed=sum(r.mixed for r in results),
        split=sum(r.split for r in results),
        grouped_by=sum((r.grouped_by for r in results), Counter()),
        why=sum((r.why for r in results), Counter()),
    )


VERDICTS = Path(__file__).parent / "data" / "lab_verdicts.json"
# Dev storms (dev scenarios, these seeds) tuned the grouping defaults; held-out ones were never looked at
# while tuning.
NOISE_SEEDS = {Split.DEV: (1, 2, 3, 4), Split.HELDOUT: (101, 102, 103, 104)}
GAPS_S = (7200.0, 1800.0, 300.0)


def _scenarios(splits: list[Split]) -> list[Scenario]:
    return all_scenarios(splits[0]) if len(splits) == 1 else all_scenarios()


async def noise(db_url: str, seeds: int, pinning: Pinning, splits: list[Split], explain: bool) -> list[str]:
    # The map a team would configure: every system's calls (of the splits replayed only, so that a dev run
    # reads nothing of the held-out scenarios).
    graph = DependencyGraph(dependency_map(_scenarios(splits)))
    started = time.perf_counter()
    table: dict[tuple[Split, float, bool], NoiseResult] = {}
    for split in splits:
        split_seeds = NOISE_SEEDS[split]
        scenarios = all_scenarios(split)
        for gap in GAPS_S:
            runs = [storms(scenarios, mean_gap_s=gap, seed=s) for s in split_seeds[:seeds]]
            for pinned in (False, True):
                table[split, gap, pinned] = _sum(
                    [await replay(db_url, alerts, graph, pinning if pinned else None) for alerts in runs]
                )
    total = _sum(list(table.values()))
    cfg = AlertSettings()
    lines = [
        f"noise reduction · labelled lab alert storms replayed through the workers' grouping "
        f"({seeds} timelines per cell; window {cfg.window_s:.0f} s, onset {cfg.onset_s:.0f} s, "
        f"cause window {cfg.cause_window_s:.0f} s); grouping on the alerts alone | with each incident's "
        f"recorded verdict pinned {pinning.delay_s:.0f} s after it opened",
        "  mean gap   storms  split    alerts → incidents  noise reduction  wrong merges (alerts)"
        "  mixed  split storms",
    ]
    for (split, gap, pinned), r in table.items():
        storms_n = len([s for s in all_scenarios(split) if s.kind == ScenarioKind.FAULT]) * seeds
        how = "+ verdicts" if pinned else "alerts only"
        lines.append(
            f"  {gap / 60:5.0f} min  {storms_n:6d}  {split.value:7s}  {r.alerts:6d} → {r.incidents:5d}  "
            f"{r.reduction:14.1%}  {r.wrong:9d} ({r.wrong_share:5.1%})  {r.mixed:10d}  {r.split:11d}"
            f"  {how}"
        )
        if explain and r.why:
            lines.append(f"      wrong merges by how they joined: {dict(r.why.most_common())}")
    lines.append(
        f"  grouped by {dict(total.grouped_by)} · "
        f"{(time.perf_counter() - started) / total.alerts * 1000:.1f} ms/alert ({EMBEDDER.model_id})"
    )
    return lines


PUBLIC_RULES = Path(__file__).parent / "data" / "public_alert_rules.json"
RULE_SEVERITY = {"critical": "critical", "warning": "medium", "info": "low"}


def public_rules() -> list[str]:
    """Accuracy on public kube-prometheus rules (written by others; frozen before the classifier changed)."""
    alerts = json.loads(PUBLIC_RULES.read_text())["alerts"]
    lines = [
        f"classification · {len(alerts)} public kube-prometheus alert rules (kubernetes-mixin, "
        "node-exporter), their own severity labels, categories by a written rubric, no LLM"
    ]
    for split in ("dev", "heldout"):
        part = [a for a in alerts if a["split"] == split]
        category = labelled = unlabelled = 0
        misses: list[str] = []
        for a in part:
            words = (a["alert"], a["summary"])
            annotations = {"description": a["description"]}
            expr = " ".join(a["expr_metrics"])
            got = classify(*words, {"alertname": a["alert"], "severity": a["severity"]}, annotations, expr)
            bare = classify(*words, {"alertname": a["alert"]}, annotations, expr)  # the label removed
            truth = RULE_SEVERITY[a["severity"]]
            category += got.category == a["category"]
            labelled += got.severity == truth
            unlabelled += bare.severity == truth
            if got.category != a["category"]:
                misses.append(f"{a['alert']} {a['category']}→{got.category}")
        n = len(part)
        lines.append(
            f"  {split:7s} {n} rules: category {category / n:.1%} · severity {labelled / n:.1%} from the "
            f"label, {unlabelled / n:.1%} with the label removed · misses {misses}"
        )
    return lines


def classification(splits: list[Split]) -> list[str]:
    alerts = storms(_scenarios(splits), mean_gap_s=1800)
    category = severity = 0
    misses: Counter[str] = Counter()
    for a in alerts:
        got = classify(a.template.name, a.summary, a.labels(), {"description": a.summary})
        category += got.category == a.template.category
        severity += got.severity == a.template.severity
        if got.category != a.template.category:
            misses[f"{a.template.name}→{got.category}"] += 1
    unlabelled = sum(1 for a in alerts if a.template.severity_label is None)
    n = len(alerts)
    return [
        *public_rules(),
        f"classification · {n} lab storm alerts ({unlabelled} without a severity label), no LLM — CIRCULAR: "
        "the storm templates and the classifier's words were written together; kept as a regression check",
        f"  category accuracy {category / n:.1%} · severity accuracy {severity / n:.1%} · "
        f"misses {dict(misses)}",
    ]


async def run(args: argparse.Namespace, db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await migrate(conn, DEFAULT_MIGRATIONS_DIR)
    finally:
        await conn.close()
    lines: list[str] = []
    with redis_for_tests() as redis_server:
        fake = FakeSlack(SLACK_TOKEN)
        await fake.start()
        try:
            if args.ingest > 0:
                lines += await ingest(args.ingest, args.senders, db_url, redis_server.url, fake.base_url)
                print("\n".join(lines), flush=True)
            shown = len(lines)
            pinning = Pinning(recorded_verdicts(args.verdicts), args.verdict_delay)
            splits = [Split.DEV, Split.HELDOUT] if args.split == "both" else [Split(args.split)]
            lines += await noise(db_url, args.seeds, pinning, splits, args.explain)
            lines += classification(splits)
            print("\n".join(lines[shown:]), flush=True)
            if args.investigations > 0:  # benchmarks/throughput.py
                tmp = Path(tempfile.mkdtemp(prefix="compass-bench-"))
                lines += await throughput(
                    args.workers,
                    args.investigations,
                    args.incidents,
                    db_url,
                    redis_server.url,
                    fake.base_url,
                    tmp,
                )
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            await fake.stop()
    print("\n=== alerts benchmark ===")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingest", type=int, default=2000, help="alert bodies to send (0: skip)")
    parser.add_argument("--senders", type=int, default=4, help="concurrent senders")
    parser.add_argument(
        "--investigations", type=int, default=40, help="investigations per worker count (0: skip)"
    )
    parser.add_argument("--incidents", type=int, default=4, help="lab incidents the investigations cover")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--seeds", type=int, default=4, choices=range(1, 5), help="storm timelines per split and gap"
    )
    parser.add_argument(
        "--split",
        choices=("dev", "heldout", "both"),
        default="both",
        help="which lab split's storms to replay (tune on dev only; held-out is for the final figures)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="break each cell's wrong merges down by rule, pinned or not, and place on the cause's path",
    )
    parser.add_argument(
        "--verdicts",
        type=Path,
        default=VERDICTS,
        help="the engine's verdicts on the lab's scenarios (a `compass lab bench` JSON)",
    )
    parser.add_argument(
        "--verdict-delay",
        type=float,
        default=30.0,
        help="seconds from an incident's first alert to its verdict (queue, announce, investigation)",
    )
    parser.add_argument(
        "--record-verdicts",
        type=Path,
        metavar="BENCH_JSON",
        help="trim a `compass lab bench --dataset lab` JSON into --verdicts, then exit",
    )
    args = parser.parse_args()
    if args.record_verdicts is not None:
        record_verdicts(args.record_verdicts, args.verdicts)
        return
    root = Path(tempfile.mkdtemp(prefix="compass-bench-pg-"))
    server = EmbeddedPostgres(root / "data", cleanup="delete")
    try:
        asyncio.run(run(args, server.start()))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
