"""When an alert incident's cause is pinned, an alert that had joined off the cause's path leaves: it is
announced as a new incident of its own, through the same job a new incident's first alert runs (root
message in the routed channel, its thread), and the first incident keeps only what is on its cause's path."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from pathlib import Path

import httpx
from alerts_testkit import CHANNEL, alert_body, bot_settings, post_alertmanager, roots, worker_config
from arq.connections import ArqRedis

from compass_bot.app import Edge, create_edge
from compass_lab.harness import scenario_mcp_config
from compass_lab.model import Scenario
from compass_lab.server.runner import LabServer
from compass_testing import FakeSlack, RedisServer, restartable_redis
from compass_worker.knowledge import KnowledgeStore
from compass_worker.service.alert_jobs import pin_alert_cause
from compass_worker.service.context import service
from compass_worker.service.worker import build_worker, close_worker, stop_worker


async def api_then_db_joined(
    http: httpx.AsyncClient, slack: FakeSlack, store: KnowledgeStore, t0: float
) -> str:
    """api's 5xx opens an incident (its root message posted); db's disk alert, 20 s later, joins it as
    its cause alerting late. Returns the incident's investigation key."""
    api = alert_body(name="HighErrorRate", service="api", summary="api 5xx", starts_at=t0, fingerprint="f1")
    assert (await post_alertmanager(http, api)).status_code == 202
    await slack.wait_for(lambda: len(roots(slack)) == 1, 30, "the incident's root message")
    db = alert_body(
        name="HostOutOfDiskSpace", service="db", summary="db disk full", starts_at=t0 + 20, fingerprint="f2"
    )
    assert (await post_alertmanager(http, db)).status_code == 202
    joined = "SELECT count(*) FROM alerts WHERE processed_status = 'firing'"
    for _ in range(300):
        if await store.pool.fetchval(joined) == 2:
            break
        await asyncio.sleep(0.05)
    assert await store.pool.fetchval("SELECT count(DISTINCT incident_id) FROM alerts") == 1
    key: str = await store.pool.fetchval("SELECT investigation_key FROM alert_incidents")
    return key


async def test_alerts_off_the_pinned_cause_path_leave_and_are_announced_on_their_own(
    http: httpx.AsyncClient,
    edge: Edge,
    redis_server: RedisServer,
    redis: ArqRedis,
    slack: FakeSlack,
    db_url: str,
    lab: LabServer,
    scenario: Scenario,
    store: KnowledgeStore,
    tmp_path: Path,
) -> None:
    deps = tmp_path / "deps.json"
    deps.write_text(json.dumps({"api": ["db"]}))  # api calls db
    config = worker_config(redis_server.url, slack.base_url, db_url, dependencies=deps, investigate=False)
    worker = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        # db is below api: while the incident is young it joins as its cause alerting late.
        key = await api_then_db_joined(http, slack, store, scenario.at)

        # The investigation names api (as `compass worker` pins a verdict): db, a callee, is another fault.
        assert await pin_alert_cause(service(worker.ctx), key, "api") == 1
        await slack.wait_for(lambda: len(roots(slack)) == 2, 30, "the detached incident's root message")
        first, second = sorted(roots(slack), key=lambda m: m.ts)
        assert first.text.startswith(":red_circle: *CRITICAL* · errors · firing on *api*")
        assert second.text.startswith(":red_circle: *CRITICAL* · saturation · firing on *db*")
        rows = await store.pool.fetch(
            "SELECT a.fingerprint, i.alert_count, i.root_ts, i.cause_component FROM alerts a "
            "JOIN alert_incidents i ON i.id = a.incident_id ORDER BY a.fingerprint"
        )
        assert [(r["fingerprint"], r["alert_count"], r["cause_component"]) for r in rows] == [
            ("f1", 1, "api"),
            ("f2", 1, None),
        ]
        assert rows[1]["root_ts"] == second.ts  # its own thread, where its investigation would stream
        assert all(m.channel == CHANNEL for m in (first, second))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await close_worker(worker)


async def test_a_detached_incident_announced_while_redis_is_down_is_announced_when_it_is_back(
    slack: FakeSlack,
    db_url: str,
    lab: LabServer,
    scenario: Scenario,
    store: KnowledgeStore,
    tmp_path: Path,
) -> None:
    """The detach and its announcement are one transaction (the job outbox): Redis down at the moment the
    cause is pinned loses nothing — the workers' reconciler enqueues the announcement once it is back."""
    deps = tmp_path / "deps.json"
    deps.write_text(json.dumps({"api": ["db"]}))
    with restartable_redis() as own:
        config = worker_config(own.url, slack.base_url, db_url, dependencies=deps, investigate=False)
        config = dataclasses.replace(
            config, service=config.service.model_copy(update={"reconcile_interval_s": 0.2})
        )
        edge = create_edge(bot_settings(own.url, slack.base_url, db_url))
        assert edge.alerting is not None
        worker = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
        task = asyncio.create_task(worker.async_run())
        try:
            async with (
                edge.alerting.running(),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=edge.api), base_url="http://bot") as http,
            ):
                key = await api_then_db_joined(http, slack, store, scenario.at)

                await asyncio.to_thread(own.stop)
                # The verdict lands while Redis is down: db leaves, its announcement waits in the outbox.
                assert await pin_alert_cause(service(worker.ctx), key, "api") == 1
                assert await store.pool.fetchval("SELECT count(*) FROM job_outbox") == 1
                assert await store.pool.fetchval("SELECT count(DISTINCT incident_id) FROM alerts") == 2
                await asyncio.sleep(0.5)
                assert len(roots(slack)) == 1

                await asyncio.to_thread(own.start)
                await slack.wait_for(
                    lambda: len(roots(slack)) == 2, 30, "the detached incident's root message"
                )
                second = roots(slack)[1]
                assert second.text.startswith(":red_circle: *CRITICAL* · saturation · firing on *db*")
                assert await store.pool.fetchval("SELECT count(*) FROM job_outbox") == 0
        finally:
            await stop_worker(worker, task)
            await edge.queue.redis.aclose()


async def test_a_corrected_cause_brings_back_the_alerts_an_earlier_pin_detached_onto_its_path(
    http: httpx.AsyncClient,
    edge: Edge,
    redis_server: RedisServer,
    redis: ArqRedis,
    slack: FakeSlack,
    db_url: str,
    lab: LabServer,
    scenario: Scenario,
    store: KnowledgeStore,
    tmp_path: Path,
) -> None:
    deps = tmp_path / "deps.json"
    deps.write_text(json.dumps({"api": ["db"], "web": ["api"], "cache": []}))  # web → api → db
    config = worker_config(redis_server.url, slack.base_url, db_url, dependencies=deps, investigate=False)
    worker = build_worker(config, mcp=scenario_mcp_config(lab.url, scenario), handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        key = await api_then_db_joined(http, slack, store, scenario.at)
        first = await store.pool.fetchval("SELECT incident_id FROM alerts WHERE fingerprint = 'f1'")

        # The verdict names api: db (a callee) leaves and is announced on its own.
        assert await pin_alert_cause(service(worker.ctx), key, "api") == 1
        await slack.wait_for(lambda: len(roots(slack)) == 2, 30, "the detached incident's root message")
        second = await store.pool.fetchval("SELECT incident_id FROM alerts WHERE fingerprint = 'f2'")
        assert second != first
        detached_root = roots(slack)[1]

        # A correction in the first thread names db: db is the cause, api a caller of it — db comes back,
        # and the incident it had opened is closed as merged (its thread says where its alerts went).
        assert await pin_alert_cause(service(worker.ctx), key, "db") == 0
        rows = await store.pool.fetch(
            "SELECT fingerprint, incident_id, grouped_by FROM alerts ORDER BY fingerprint"
        )
        assert [(r["fingerprint"], r["incident_id"], r["grouped_by"]) for r in rows] == [
            ("f1", first, "new"),
            ("f2", first, "component"),
        ]
        back = await store.pool.fetchrow(
            "SELECT alert_count, components, cause_component FROM alert_incidents WHERE id = $1", first
        )
        assert (back["alert_count"], list(back["components"]), back["cause_component"]) == (
            2,
            ["api", "db"],
            "db",
        )
        gone = await store.pool.fetchrow(
            "SELECT status, merged_into, alert_count FROM alert_incidents WHERE id = $1", second
        )
        assert (gone["status"], gone["merged_into"], gone["alert_count"]) == ("resolved", first, 0)
        await slack.wait_for(
            lambda: any("rejoined" in m.text for m in slack.thread(CHANNEL, detached_root.ts)),
            30,
            "the merged incident's thread note",
        )
        assert len(roots(slack)) == 2  # nothing new announced

        # Pinning a cause the map does not place (or that nothing detached is on the path of) brings nothing
        # back and takes nothing apart beyond what the pin's own rule does.
        assert await pin_alert_cause(service(worker.ctx), key, "cache") == 0
        assert await store.pool.fetchval("SELECT count(DISTINCT incident_id) FROM alerts") == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await close_worker(worker)
