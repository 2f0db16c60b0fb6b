"""Edge benchmark (not a test): how fast the bot acknowledges Slack, and how fast a worker starts the job.

    .venv/bin/python benchmarks/edge_ack.py [--events 1000]

Runs `compass bot` as its own process (uvicorn) against a private redis-server and the fake Slack Web API,
sends N signed `app_mention` events one after another over HTTP, and reports:
- ack latency (request sent → HTTP 200), p50 / p90 / p99 / max — Slack wants < 3 s; the goal is p99 < 50 ms.
  Each ack includes the Redis dedupe, the thread claim, the status message (chat.postMessage to the fake)
  and the ARQ enqueue.
- enqueue → job start, measured by a real ARQ worker whose `investigate_mention` only records when it
  started; side by side for COMPASS' poll_delay (0.05 s) and ARQ's default (0.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import time
from datetime import datetime
from typing import Any

import httpx
from arq import func
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from compass_testing import FakeSlack, event_request, mention_event, redis_for_tests
from compass_worker.contracts import JobName
from compass_worker.service.worker import stop_worker

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def summary(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{name:<34} n={len(ms):<5} p50 {pct(ms, 0.5):7.2f} ms  p90 {pct(ms, 0.9):7.2f} ms  "
        f"p99 {pct(ms, 0.99):7.2f} ms  max {max(ms):7.2f} ms  mean {statistics.fmean(ms):7.2f} ms"
    )


async def start_latencies(redis_url: str, poll_delay: float, jobs: int) -> list[float]:
    """Enqueue `jobs` jobs one at a time into an idle worker; the time from enqueue to the job's start."""
    started: list[float] = []
    ran = asyncio.Event()

    async def probe(ctx: dict[Any, Any], payload: dict[str, Any]) -> None:
        enqueued: datetime = ctx["enqueue_time"]
        started.append(time.time() - enqueued.timestamp())
        ran.set()

    worker = Worker(
        functions=[func(probe, name=JobName.INVESTIGATE)],
        redis_settings=RedisSettings.from_dsn(redis_url),
        poll_delay=poll_delay,
        handle_signals=False,
        keep_result=0,
    )
    task = asyncio.create_task(worker.async_run())
    redis = ArqRedis.from_url(redis_url)
    try:
        for i in range(jobs):
            ran.clear()
            await redis.enqueue_job(JobName.INVESTIGATE, {"n": i})
            await asyncio.wait_for(ran.wait(), 10)
            await asyncio.sleep(poll_delay * (i % 7) / 7)  # arrive at varied points of the poll cycle
    finally:
        await redis.aclose()
        await stop_worker(worker, task)
    return started


async def run(events: int, jobs: int) -> None:
    with redis_for_tests() as redis_server:
        fake = FakeSlack(TOKEN)
        await fake.start()
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "COMPASS_SLACK_API_URL": fake.base_url,
            "REDIS_URL": redis_server.url,
        }
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "compass_cli.main", "bot", "--port", str(port), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        acks: list[float] = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                for _ in range(200):
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.05)
                for i in range(events + 20):  # the first 20 warm up (auth.test, connections) and are dropped
                    body, headers = event_request(
                        SECRET,
                        mention_event(f"C{i % 50:04d}", f"1700000000.{i:06d}", "checkout p99 is spiking"),
                    )
                    t0 = time.perf_counter()
                    resp = await http.post("/slack/events", content=body, headers=headers)
                    elapsed = time.perf_counter() - t0
                    assert resp.status_code == 200, resp.text
                    if i >= 20:
                        acks.append(elapsed)
        finally:
            bot.terminate()
            await bot.wait()
        redis = ArqRedis.from_url(redis_server.url)
        queued = await redis.zcard("arq:queue")
        await redis.flushdb()
        await redis.aclose()
        posts = len(fake.calls_to("chat.postMessage"))
        await fake.stop()
        fast = await start_latencies(redis_server.url, 0.05, jobs)
        slow = await start_latencies(redis_server.url, 0.5, max(20, jobs // 5))

    print(f"edge benchmark · {events} signed app_mention events, sequential, over HTTP to `compass bot`")
    print(summary("ack latency", acks))
    print(f"{'':<34} jobs enqueued {queued} (of {events + 20}), status messages posted {posts}")
    print(summary("enqueue → job start (poll 0.05 s)", fast))
    print(summary("enqueue → job start (poll 0.5 s)", slow))
    print(
        f"p99 ack goal < 50 ms: {'met' if pct(acks, 0.99) < 0.05 else 'NOT met'} · "
        f"job start p50 ratio 0.5 s/0.05 s poll: {pct(slow, 0.5) / pct(fast, 0.5):.1f}×"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=200, help="enqueue→start samples (poll 0.05 s)")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.jobs))


if __name__ == "__main__":
    main()
