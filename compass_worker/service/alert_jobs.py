"""The alert jobs (registered under the names in compass_worker.contracts).

`process_alert`: assign the alert to an incident; the first alert of a firing incident announces it — a
root message in the routed channel (rate limited per channel), the thread claimed like a mention's, and
the ordinary investigation job streaming into that thread (status, findings, verdict with ✅ / ❌,
corrections). Later alerts and resolves only schedule a coalesced `refresh_alert_incident`, which updates
the root message and says in the thread what joined or resolved — one update per incident every few
seconds at most, however many alerts arrive.

Idempotent: an alert keeps its incident across retries, the incident is announced by its first alert's
job only, and the investigation's ARQ job id is its thread key.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from uuid import UUID

from arq import Retry
from redis.exceptions import RedisError

from compass_worker.alerts.classify import classify
from compass_worker.alerts.grouping import DependencyGraph
from compass_worker.alerts.llm_classify import classify_with_llm, needs_model
from compass_worker.alerts.messages import joined_text, merged_text, resolved_text, root_text, symptom_text
from compass_worker.alerts.routing import ChannelRateLimit, Routes
from compass_worker.alerts.store import (
    AlertIncident,
    AlertIncidentStore,
    StoredAlert,
    announcement,
)
from compass_worker.contracts import (
    AlertIncidentRef,
    AlertRef,
    ApiFeedbackRequest,
    InvestigateRequest,
    JobName,
    RedisKeys,
    SlackThread,
    job_id,
)
from compass_worker.knowledge.errors import InvalidInput, NotFound
from compass_worker.knowledge.records import Cause, FeedbackChannel
from compass_worker.reasoners.factory import one_shot
from compass_worker.service.context import ServiceContext, service

log = logging.getLogger("compass_worker.service")

REFRESH_DEFER_S = 2.0  # thread/root updates of one incident are coalesced over this long
SLACK_RETRY_S = 5.0
THREAD_TTL_S = 30 * 86400  # as the bot's thread claims
ALERT_TRIES = 500  # rate-limit deferrals count as tries: a long storm must not exhaust them
_GRAPH_KEY = "compass_alert_graph"


def _store(svc: ServiceContext) -> AlertIncidentStore:
    return AlertIncidentStore(svc.store.pool, svc.store.memory.embedder)


def _graph(ctx: dict[Any, Any], svc: ServiceContext) -> DependencyGraph:
    graph = ctx.get(_GRAPH_KEY)
    if not isinstance(graph, DependencyGraph):
        graph = ctx[_GRAPH_KEY] = DependencyGraph(svc.config.alerts.load_dependencies())
    return graph


async def _refresh_soon(svc: ServiceContext, incident_id: UUID) -> None:
    bucket = int(time.time() // REFRESH_DEFER_S)
    await svc.redis.enqueue_job(
        JobName.REFRESH_ALERT_INCIDENT,
        AlertIncidentRef(incident_id=str(incident_id)).model_dump(mode="json"),
        _job_id=job_id(JobName.REFRESH_ALERT_INCIDENT, f"{incident_id}:{bucket}"),
        _defer_by=REFRESH_DEFER_S,
    )


async def _announce(
    svc: ServiceContext, store: AlertIncidentStore, incident: AlertIncident, first: StoredAlert
) -> str:
    cfg = svc.config.alerts
    if incident.channel is None:
        return "recorded (no channel routed)"
    wait = await ChannelRateLimit(svc.redis, cfg.channel_rate).wait_s(incident.channel)
    if wait > 0:
        raise Retry(defer=wait)  # the channel had its share of new incidents this minute
    ts = await svc.slack.post(incident.channel, None, root_text(incident, first))
    if ts is None:
        raise Retry(defer=SLACK_RETRY_S)
    thread = SlackThread(channel=incident.channel, thread_ts=ts)
    await store.set_root(incident.id, ts, thread.investigation_key)
    # Replies in the thread are then read as corrections and follow-ups, exactly as after a mention.
    await svc.redis.set(RedisKeys.thread(thread), thread.investigation_key, nx=True, ex=THREAD_TTL_S)
    if cfg.investigate:
        request = InvestigateRequest(
            thread=thread,
            text=symptom_text(incident, first),
            user=f"alert:{first.source}",
            at=first.starts_at.timestamp(),
            trigger="alert",
        )
        await svc.redis.enqueue_job(
            JobName.INVESTIGATE,
            request.model_dump(mode="json"),
            _job_id=job_id(JobName.INVESTIGATE, thread.investigation_key),
        )
    await _refresh_soon(svc, incident.id)  # alerts that joined while the root waited
    return "announced"


async def _classify_with_llm(
    svc: ServiceContext, store: AlertIncidentStore, incident: AlertIncident, alert: StoredAlert
) -> AlertIncident:
    """A new incident whose first alert's words decided nothing is classified by the LLM, when one is set
    up (outside the grouping lock: a slow model must not hold every other alert back)."""
    words = classify(alert.name, alert.summary, alert.labels, alert.annotations, alert.expr)
    if not needs_model(words):
        return incident
    async with one_shot(svc.config.llm, svc.ledger, "orient") as llm:
        if llm is None:
            return incident
        got = await classify_with_llm(
            alert, words, model=llm.model, redaction=llm.redaction, ledger=llm.ledger, prices=llm.prices
        )
    if got == words:
        return incident
    return await store.set_class(incident.id, got.category, got.severity) or incident


async def process_alert(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    ref = AlertRef.model_validate(payload)
    svc = service(ctx)
    store = _store(svc)
    alert = await store.alert(ref.alert_id)
    if alert is None:
        return "unknown alert"
    if alert.processed_status == alert.status:
        return "already processed"
    cfg = svc.config.alerts
    routes = Routes(cfg.routes, cfg.channel)
    assignment = await store.assign(
        alert,
        cfg.policy(_graph(ctx, svc)),
        lambda a: classify(a.name, a.summary, a.labels, a.annotations, a.expr),
        lambda a: routes.channel_for(a.labels),
    )
    incident = assignment.incident
    if assignment.created and alert.status == "firing":
        incident = await _classify_with_llm(svc, store, incident, alert)
    if alert.status == "resolved":
        await store.resolve(alert.model_copy(update={"incident_id": incident.id}))
        await _refresh_soon(svc, incident.id)
        outcome = "resolved"
    elif incident.first_alert_id == alert.id and incident.root_ts is None and incident.status == "firing":
        outcome = await _announce(svc, store, incident, alert)
    else:
        await _refresh_soon(svc, incident.id)
        outcome = f"joined ({assignment.grouped_by})"
    await store.mark_processed(alert.id, alert.status)
    return outcome


async def pin_alert_cause(svc: ServiceContext, key: str, component: str) -> int:
    """An alert incident's investigation (or a correction in its thread) named its root component: pin it
    (later alerts are grouped against it) and let the alerts that had joined off its path go
    (`AlertIncidentStore.pin_cause`). An incident opened for them is announced as any new incident is: its
    first alert's `process_alert` runs again (root message, thread, its own investigation). Returns how
    many incidents were opened. Threads that are not an alert incident's change nothing."""
    store = _store(svc)
    if not component or (incident := await store.for_investigation(key)) is None:
        return 0
    cfg = svc.config.alerts
    routes = Routes(cfg.routes, cfg.channel)
    regrouped = await store.pin_cause(
        incident.id,
        component,
        cfg.policy(DependencyGraph(cfg.load_dependencies())),  # once per verdict: read afresh
        lambda a: classify(a.name, a.summary, a.labels, a.annotations, a.expr),
        lambda a: routes.channel_for(a.labels),
    )
    try:
        for new in regrouped.opened:
            # pin_cause wrote this job to the outbox with the detach; enqueued now, it leaves the outbox.
            jid, ref = announcement(new)
            await svc.redis.enqueue_job(JobName.PROCESS_ALERT, ref.model_dump(mode="json"), _job_id=jid)
            await svc.jobs.drop_outbox(jid)
        if regrouped.opened or regrouped.joined or regrouped.returned:
            await _refresh_soon(svc, incident.id)  # the root message's count and components changed
        for other in [*regrouped.joined, *regrouped.gave_back]:
            await _refresh_soon(svc, other)  # its thread lists the alerts that joined, or says they left
    except (RedisError, OSError, TimeoutError) as exc:
        # Redis is away: the announcements wait in the outbox for the reconciler; the threads' updates are
        # made by the next refresh of each incident (their alerts are recorded, only not said yet).
        log.warning(
            "Redis unavailable; %d detached incident(s) wait in the outbox: %s",
            len(regrouped.opened),
            type(exc).__name__,
        )
    return len(regrouped.opened)


async def refresh_alert_incident(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    ref = AlertIncidentRef.model_validate(payload)
    svc = service(ctx)
    store = _store(svc)
    try:
        incident = await store.incident(UUID(ref.incident_id))
    except ValueError:
        return "bad incident id"
    if incident is None or incident.channel is None or incident.root_ts is None:
        return "not announced"
    first = await store.alert(incident.first_alert_id)
    await svc.slack.update(incident.channel, incident.root_ts, root_text(incident, first))
    joined = await store.take_unannounced(incident.id)
    if joined:
        await svc.slack.post(incident.channel, incident.root_ts, joined_text(joined))
    if incident.status == "resolved" and await store.take_resolution(incident.id):
        if incident.merged_into is not None:
            into = await store.incident(incident.merged_into)
            await svc.slack.post(incident.channel, incident.root_ts, merged_text(into))
        else:
            await svc.slack.post(incident.channel, incident.root_ts, resolved_text(incident))
    return f"refreshed ({len(joined)} joined)"


async def record_api_feedback(ctx: dict[Any, Any], payload: dict[str, Any]) -> str:
    req = ApiFeedbackRequest.model_validate(payload)
    feedback = service(ctx).store.feedback
    inv_id = UUID(req.investigation_id)
    try:
        if req.kind == "confirm":
            await feedback.confirm(inv_id, author=req.user, channel=FeedbackChannel.API, note=req.note)
            return "confirmed"
        cause = Cause(component=(req.component or "").strip().lower(), fault=req.fault or "other")
        await feedback.correct(inv_id, cause, author=req.user, channel=FeedbackChannel.API, note=req.note)
    except (InvalidInput, NotFound) as exc:
        return f"refused: {exc}"
    return f"corrected: {cause}"
