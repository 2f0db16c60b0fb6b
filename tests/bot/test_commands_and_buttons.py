"""`/compass` and the verdict buttons, through the real Bolt app (the worker side is in tests/service)."""

from __future__ import annotations

import json

import httpx
from arq.connections import ArqRedis
from arq.constants import default_queue_name
from bot_testkit import SECRET, send

from compass_testing import FakeSlack, action_request, slash_request, view_submission_request
from compass_worker.contracts import VERDICT_FAULT_IDS, JobName, SlackThread


async def test_help_status_and_cost_usage(http: httpx.AsyncClient, redis: ArqRedis) -> None:
    help_text = (await send(http, slash_request(SECRET, ""))).text
    assert "/compass cost" in help_text and "@compass" in help_text
    status = (await send(http, slash_request(SECRET, "status"))).text
    assert "queue depth: 0" in status and "no worker has reported" in status  # honest: no worker runs here
    assert "Usage" in (await send(http, slash_request(SECRET, "cost 90d"))).text
    assert "Unknown command `deploy`" in (await send(http, slash_request(SECRET, "deploy prod"))).text
    assert await redis.zcard(default_queue_name) == 0
    resp = await send(http, slash_request(SECRET, "cost today"))
    assert resp.status_code == 200 and "Working out the costs for today" in resp.text
    [job] = await redis.zrange(default_queue_name, 0, -1)
    assert job.decode().startswith(JobName.COST_REPORT + ":")


async def test_wrong_button_opens_the_correction_modal(http: httpx.AsyncClient, slack: FakeSlack) -> None:
    key = SlackThread(channel="C1", thread_ts="1700000000.000001").investigation_key
    assert (await send(http, action_request(SECRET, "compass_wrong", key, channel="C1"))).status_code == 200
    [opened] = slack.views
    view = opened["view"]
    assert isinstance(view, dict)
    assert json.loads(str(view["private_metadata"])) == {"channel": "C1", "thread_ts": "1700000000.000001"}
    fault_block = next(b for b in view["blocks"] if b["block_id"] == "fault")  # type: ignore[index, union-attr]
    offered = [o["value"] for o in fault_block["element"]["options"]]
    assert offered == [*VERDICT_FAULT_IDS, "other"] and "code_defect" in offered


async def test_modal_without_component_is_refused_inline(http: httpx.AsyncClient, redis: ArqRedis) -> None:
    meta = json.dumps({"channel": "C1", "thread_ts": "1700000000.000001"})
    resp = await send(
        http, view_submission_request(SECRET, "compass_correction", meta, {"fault": "dns_failure"})
    )
    assert resp.json() == {"response_action": "errors", "errors": {"component": "Name the component"}}
    assert await redis.zcard(default_queue_name) == 0
