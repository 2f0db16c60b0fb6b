"""Alert incidents in PostgreSQL: assign an alert to an incident (under one advisory lock, so two workers
never open two incidents for one problem), resolve, and remember what the Slack thread has been told.

Everything here is idempotent per alert: an alert already assigned keeps its incident (a retried job
changes nothing), and `processed_status` records which status of the alert has been fully handled.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import parse_qs, urlparse
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict

from compass_worker.alerts.classify import Classification, Severity
from compass_worker.alerts.grouping import Candidate, Decision, GroupedBy, component_of, decide, off_path
from compass_worker.alerts.grouping import GroupingPolicy as GroupingPolicy  # where callers have found it
from compass_worker.contracts import AlertRef, JobName, job_id
from compass_worker.knowledge.database import AnyConnection, Pool
from compass_worker.knowledge.embedders.protocol import Embedder, Vector

# pg_advisory_xact_lock key for grouping: the bytes of "alerts".
_GROUPING_LOCK = int.from_bytes(b"alerts", "big")
_SEVERITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class StoredAlert(_Row):
    id: int
    source: str
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: Literal["firing", "resolved"]
    name: str
    summary: str
    labels: dict[str, str]
    annotations: dict[str, str]
    group_key: str
    received_at: datetime
    incident_id: UUID | None
    processed_status: str | None
    grouped_by: str | None
    generator_url: str | None = None

    @property
    def expr(self) -> str:
        """The rule's query, from Prometheus' `generatorURL` (`/graph?g0.expr=…`); empty when absent."""
        query = parse_qs(urlparse(self.generator_url or "").query)
        return next(iter(query.get("g0.expr", [])), "")

    @property
    def component(self) -> str | None:
        return component_of(self.labels)

    @property
    def text(self) -> str:
        """What similarity compares: the alert's name, summary and component."""
        return " ".join(x for x in (self.name, self.summary, self.component or "") if x)


class AlertIncident(_Row):
    id: UUID
    title: str
    group_key: str
    component: str | None
    components: tuple[str, ...]
    severity: Severity
    category: str
    status: Literal["firing", "resolved"]
    channel: str | None
    root_ts: str | None
    investigation_key: str | None
    first_alert_id: int
    alert_count: int
    opened_at: datetime
    last_alert_at: datetime
    resolved_at: datetime | None
    resolution_posted: bool
    cause_component: str | None = None
    merged_into: UUID | None = None  # all its alerts went back to this incident (a re-pinned cause)


class Regrouped(_Row):
    """Where the alerts that left a pinned incident went, and which came back to it."""

    opened: list[AlertIncident] = []  # new incidents, to be announced
    joined: list[UUID] = []  # open incidents that took some of them
    returned: int = 0  # alerts an earlier pin had detached that came back (a re-pinned cause)
    gave_back: list[UUID] = []  # incidents they came from (closed as merged when none is left)


def announcement(incident: AlertIncident) -> tuple[str, AlertRef]:
    """The `process_alert` job (ARQ job id, payload) that announces an incident opened for alerts that left
    another: its first alert's, under a job id of its own (the alert's first job may still be remembered
    under the plain key)."""
    ref = AlertRef(alert_id=incident.first_alert_id, status=incident.status)
    return job_id(JobName.PROCESS_ALERT, f"{ref.key}:left:{incident.id}"), ref


class Assignment(_Row):
    incident: AlertIncident
    created: bool
    grouped_by: GroupedBy


def _alert(r: asyncpg.Record) -> StoredAlert:
    return StoredAlert(
        **{k: r[k] for k in StoredAlert.model_fields if k not in ("labels", "annotations")},
        labels=json.loads(r["labels"]),
        annotations=json.loads(r["annotations"]),
    )


def _title(alert: StoredAlert) -> str:
    return (alert.summary or alert.name)[:300]


def _new_occurrence(
    alert: StoredAlert, status: str, ends_at: datetime | None, policy: GroupingPolicy
) -> bool:
    """The fingerprint's previous occurrence had resolved more than `quiet_s` before this one began: a
    new problem, not a re-fire of the old one (flapping within the quiet gap still rejoins)."""
    if status != "resolved" or ends_at is None:
        return False
    return (alert.starts_at - ends_at).total_seconds() > policy.quiet_s


def _incident(r: asyncpg.Record) -> AlertIncident:
    data = {k: r[k] for k in AlertIncident.model_fields}
    data["components"] = tuple(r["components"])
    return AlertIncident(**data)


Classifier = Callable[[StoredAlert], Classification]
Router = Callable[[StoredAlert], str | None]


class AlertIncidentStore:
    def __init__(self, pool: Pool, embedder: Embedder) -> None:
        self._pool = pool
        self._embedder = embedder

    async def alert(self, alert_id: int) -> StoredAlert | None:
        row = await self._pool.fetchrow("SELECT * FROM alerts WHERE id = $1", alert_id)
        return _alert(row) if row is not None else None

    async def incident(self, incident_id: UUID) -> AlertIncident | None:
        row = await self._pool.fetchrow("SELECT * FROM alert_incidents WHERE id = $1", incident_id)
        return _incident(row) if row is not None else None

    async def _incident_in(self, conn: AnyConnection, incident_id: UUID) -> AlertIncident:
        row = await conn.fetchrow("SELECT * FROM alert_incidents WHERE id = $1", incident_id)
        assert row is not None  # alerts reference incidents by foreign key
        return _incident(row)

    async def assign(
        self, alert: StoredAlert, policy: GroupingPolicy, classify: Classifier, route: Router
    ) -> Assignment:
        """The alert's incident: the one it already has, a related open one, or a new one."""
        vector = (await self._embedder.embed([alert.text]))[0]
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _GROUPING_LOCK)
            current = await conn.fetchrow(
                "SELECT incident_id, grouped_by FROM alerts WHERE id = $1", alert.id
            )
            if current is not None and current["incident_id"] is not None:
                incident = await self._incident_in(conn, current["incident_id"])
                return Assignment(incident=incident, created=False, grouped_by=current["grouped_by"] or "new")
            decision = await self._decide_in(conn, alert, vector, policy)
            incident_id = await self._join_in(conn, alert, vector, decision, classify, route)
            incident = await self._incident_in(conn, incident_id)
        return Assignment(
            incident=incident, created=decision.incident_id is None, grouped_by=decision.grouped_by
        )

    async def _decide_in(
        self,
        conn: AnyConnection,
        alert: StoredAlert,
        vector: Vector,
        policy: GroupingPolicy,
        exclude: UUID | None = None,
    ) -> Decision:
        """Where the grouping rules put `alert` among the open incidents (`exclude`: never that one)."""
        window = timedelta(seconds=policy.window_s)
        previous = await conn.fetchrow(
            """SELECT a.incident_id, a.status, a.ends_at FROM alerts a
                   JOIN alert_incidents i ON i.id = a.incident_id
               WHERE a.fingerprint = $1 AND a.id <> $2 AND i.status = 'firing' AND i.id IS DISTINCT FROM $3
               ORDER BY a.starts_at DESC LIMIT 1""",
            alert.fingerprint,
            alert.id,
            exclude,
        )
        same = previous["incident_id"] if previous is not None else None
        if previous is not None and _new_occurrence(alert, previous["status"], previous["ends_at"], policy):
            same = None
        rows = await conn.fetch(
            """SELECT i.id, i.components, i.opened_at, i.last_alert_at,
                      EXISTS (SELECT 1 FROM alerts a WHERE a.incident_id = i.id AND a.group_key = $5)
                          AS shares_group_key,
                      CASE WHEN i.embedding_model = $4 THEN 1 - (i.embedding <=> $3) END AS similarity,
                      (SELECT f.labels FROM alerts f WHERE f.id = i.first_alert_id) AS labels,
                      i.cause_component
               FROM alert_incidents i
               WHERE i.status = 'firing' AND i.last_alert_at >= $1 AND i.opened_at <= $2
                 AND i.id IS DISTINCT FROM $6""",
            alert.starts_at - window,
            alert.starts_at + window,
            vector,
            self._embedder.model_id,
            alert.group_key,
            exclude,
        )
        candidates = [
            Candidate(
                id=r["id"],
                shares_group_key=r["shares_group_key"],
                components=tuple(r["components"]),
                opened_at=r["opened_at"],
                last_alert_at=r["last_alert_at"],
                similarity=r["similarity"],
                labels=json.loads(r["labels"]) if r["labels"] else {},
                cause=r["cause_component"],
            )
            for r in rows
        ]
        return decide(
            at=alert.starts_at,
            fingerprint_incident=same,
            component=alert.component,
            candidates=candidates,
            graph=policy.graph,
            similarity=policy.similarity,
            labels=alert.labels,
            cause_window_s=policy.cause_window_s,
            onset_s=policy.onset_s,
        )

    async def _join_in(
        self,
        conn: AnyConnection,
        alert: StoredAlert,
        vector: Vector,
        decision: Decision,
        classify: Classifier,
        route: Router,
    ) -> UUID:
        """Apply `decision`: open the new incident or add the alert to its incident; returns the incident."""
        label = classify(alert)
        if decision.incident_id is None:
            incident_id = uuid.uuid4()
            await conn.execute(
                """INSERT INTO alert_incidents (id, title, group_key, component, components, severity,
                       category, status, channel, first_alert_id, embedding, embedding_model, opened_at,
                       last_alert_at, resolved_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)""",
                incident_id,
                _title(alert),
                alert.group_key,
                alert.component,
                [alert.component] if alert.component else [],
                label.severity,
                label.category,
                alert.status,  # an alert first seen already resolved opens a resolved incident
                route(alert),
                alert.id,
                vector,
                self._embedder.model_id,
                alert.starts_at,
                alert.ends_at or alert.received_at if alert.status == "resolved" else None,
            )
        else:
            incident_id = decision.incident_id
            await conn.execute(
                """UPDATE alert_incidents
                   SET alert_count = alert_count + 1,
                       last_alert_at = greatest(last_alert_at, $2),
                       components = CASE WHEN $3::text IS NULL OR $3 = ANY(components) THEN components
                                         ELSE array_append(components, $3) END,
                       severity = CASE WHEN $5 > (CASE severity WHEN 'low' THEN 0
                                                  WHEN 'medium' THEN 1 WHEN 'high' THEN 2 ELSE 3 END)
                                       THEN $4 ELSE severity END,
                       -- Concurrent workers may meet a storm's alerts out of order: the incident is
                       -- titled after, and began with, its earliest alert, whoever grouped it first.
                       title = CASE WHEN $2 < opened_at THEN $6 ELSE title END,
                       category = CASE WHEN $2 < opened_at THEN $7 ELSE category END,
                       opened_at = least(opened_at, $2)
                   WHERE id = $1""",
                incident_id,
                alert.starts_at,
                alert.component,
                label.severity,
                _SEVERITY_RANK[label.severity],
                _title(alert),
                label.category,
            )
        await conn.execute(
            "UPDATE alerts SET incident_id = $2, grouped_by = $3 WHERE id = $1",
            alert.id,
            incident_id,
            decision.grouped_by,
        )
        return incident_id

    async def pin_cause(
        self, incident_id: UUID, component: str, policy: GroupingPolicy, classify: Classifier, route: Router
    ) -> Regrouped:
        """The root component the incident's investigation (or a correction) named: later alerts are grouped
        against it, and the alerts that had joined off its path (`grouping.off_path`; never the incident's
        first alert, its announcement) leave it and are grouped again without it — into another open
        incident or a new one. One transaction under the grouping lock: the incidents' counts, components
        and onsets always match their alerts. Returns where they went: incidents opened for them (to be
        announced) and open incidents they joined (whose threads should say so)."""
        cause = component.strip().lower()
        graph = policy.graph
        incident = await self.incident(incident_id)
        if incident is None:
            return Regrouped()
        rows = await self._pool.fetch("SELECT * FROM alerts WHERE incident_id = $1", incident_id)
        # Re-pinning (a correction names another cause): the alerts an earlier pin detached from this
        # incident that the map places on the new cause's path (the cause, or a caller of it) come back.
        away = await self._pool.fetch(
            "SELECT * FROM alerts WHERE left_incident = $1 AND incident_id IS DISTINCT FROM $1", incident_id
        )
        coming = [
            a
            for a in map(_alert, away)
            if a.component is not None
            and graph.knows(cause)
            and (a.component == cause or graph.calls(a.component, cause))
        ]
        # Only a cause the incident's own alerts corroborate (one of them is about it, or one coming back
        # is) re-draws the incident: a verdict naming a component that never alerted is kept for later
        # alerts, but is not trusted to take apart what the alerts themselves grouped.
        corroborated = cause in incident.components or any(a.component == cause for a in coming)
        leaving = [
            a
            for a in map(_alert, rows)
            if corroborated and a.id != incident.first_alert_id and off_path(a.component, cause, graph)
        ]
        # Embedded before the lock (a model call must not hold grouping back); an alert that joined in
        # between stays, as it was grouped against the pinned cause already.
        embedded = await self._embedder.embed([a.text for a in leaving]) if leaving else []
        vectors = dict(zip((a.id for a in leaving), embedded, strict=True))
        opened: list[UUID] = []
        joined: set[UUID] = set()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _GROUPING_LOCK)
            await conn.execute(
                "UPDATE alert_incidents SET cause_component = $2 WHERE id = $1", incident_id, cause
            )
            returned, gave_back = await self._return_in(conn, incident_id, cause, coming, classify)
            moved = await conn.fetch(
                """UPDATE alerts SET incident_id = NULL, grouped_by = NULL, announced = false,
                          left_incident = $1
                   WHERE incident_id = $1 AND id = ANY($2::bigint[]) RETURNING *""",
                incident_id,
                list(vectors),
            )
            if returned or moved:
                await self._recount_in(conn, incident_id, classify)
            if not moved:
                return Regrouped(returned=returned, gave_back=gave_back)
            for alert in sorted(map(_alert, moved), key=lambda a: (a.starts_at, a.id)):
                decision = await self._decide_in(conn, alert, vectors[alert.id], policy, exclude=incident_id)
                into = await self._join_in(conn, alert, vectors[alert.id], decision, classify, route)
                if decision.incident_id is None:
                    opened.append(into)
                    # Its first alert's job announces an incident: this one has not yet.
                    await conn.execute("UPDATE alerts SET processed_status = NULL WHERE id = $1", alert.id)
                else:
                    joined.add(into)
            news = [await self._incident_in(conn, i) for i in opened]
            # Their announcements are written to the job outbox in the same transaction as the detach:
            # whoever enqueues them (the caller at once, or the workers' reconciler once Redis is back
            # after an outage or a crash in between), none is lost. The caller drops what it enqueued.
            for new in news:
                jid, ref = announcement(new)
                await conn.execute(
                    "INSERT INTO job_outbox (arq_job_id, job_name, payload) VALUES ($1, $2, $3::jsonb)"
                    " ON CONFLICT (arq_job_id) DO NOTHING",
                    jid,
                    JobName.PROCESS_ALERT,
                    ref.model_dump_json(),
                )
            return Regrouped(
                opened=news,
                joined=sorted(joined - set(opened)),
                returned=returned,
                gave_back=gave_back,
            )

    async def _return_in(
        self,
        conn: AnyConnection,
        incident_id: UUID,
        cause: str,
        coming: list[StoredAlert],
        classify: Classifier,
    ) -> tuple[int, list[UUID]]:
        """Bring `coming` (alerts an earlier pin detached from the incident, on the new cause's path) back,
        under the grouping lock. An alert that opened an incident which keeps other alerts stays there: that
        incident was announced with it and its thread and investigation are about it. An incident left
        with no alert is closed as merged into this one. Returns how many came back and from where."""
        if not coming:
            return 0, []
        rows = await conn.fetch(
            """SELECT a.id, a.incident_id, i.first_alert_id FROM alerts a
                   JOIN alert_incidents i ON i.id = a.incident_id
               WHERE a.id = ANY($1::bigint[]) AND a.left_incident = $2""",
            [a.id for a in coming],
            incident_id,
        )
        ids = {r["id"] for r in rows}
        stay = set()
        for r in rows:
            if r["first_alert_id"] == r["id"]:
                others = await conn.fetchval(
                    "SELECT count(*) FROM alerts WHERE incident_id = $1 AND NOT (id = ANY($2::bigint[]))",
                    r["incident_id"],
                    list(ids),
                )
                if others:
                    stay.add(r["id"])
        back = [a for a in coming if a.id in ids - stay]
        for a in back:
            how = "component" if a.component == cause else "dependency"
            await conn.execute(
                """UPDATE alerts SET incident_id = $2, grouped_by = $3, left_incident = NULL,
                          announced = false
                   WHERE id = $1""",
                a.id,
                incident_id,
                how,
            )
        sources = sorted({r["incident_id"] for r in rows if r["id"] in ids - stay})
        for source in sources:
            if await conn.fetchval("SELECT count(*) FROM alerts WHERE incident_id = $1", source):
                await self._recount_in(conn, source, classify)
            else:
                await conn.execute(
                    """UPDATE alert_incidents SET alert_count = 0, status = 'resolved', merged_into = $2,
                              resolved_at = coalesce(resolved_at, now())
                       WHERE id = $1""",
                    source,
                    incident_id,
                )
        return len(back), sources

    async def _recount_in(self, conn: AnyConnection, incident_id: UUID, classify: Classifier) -> None:
        """After alerts left it: the incident's count, components, onset, last alert and severity are its
        remaining alerts' (its title and category stay its first alert's, which never leaves)."""
        rows = await conn.fetch(
            "SELECT * FROM alerts WHERE incident_id = $1 ORDER BY starts_at, id", incident_id
        )
        alerts = [_alert(r) for r in rows]
        components = list(dict.fromkeys(c for a in alerts if (c := a.component) is not None))
        severity = max((classify(a).severity for a in alerts), key=_SEVERITY_RANK.__getitem__)
        # The alerts that still fired may all have left: what remains has resolved, and so has it.
        ended = all(a.status == "resolved" for a in alerts)
        await conn.execute(
            """UPDATE alert_incidents SET alert_count = $2, components = $3, opened_at = $4,
                      last_alert_at = $5, severity = $6,
                      status = CASE WHEN $7 THEN 'resolved' ELSE status END,
                      resolved_at = CASE WHEN $7 AND resolved_at IS NULL THEN $8 ELSE resolved_at END
               WHERE id = $1""",
            incident_id,
            len(alerts),
            components,
            alerts[0].starts_at,
            max(a.starts_at for a in alerts),
            severity,
            ended,
            max((a.ends_at for a in alerts if a.ends_at is not None), default=None),
        )

    async def resolve(self, alert: StoredAlert) -> AlertIncident | None:
        """After a resolved alert: the incident is resolved once none of its alerts still fires."""
        if alert.incident_id is None:
            return None
        await self._pool.execute(
            """UPDATE alert_incidents SET status = 'resolved',
                      resolved_at = (SELECT coalesce(max(ends_at), now()) FROM alerts WHERE incident_id = $1)
               WHERE id = $1 AND status = 'firing'
                 AND NOT EXISTS (SELECT 1 FROM alerts WHERE incident_id = $1 AND status = 'firing')""",
            alert.incident_id,
        )
        return await self.incident(alert.incident_id)

    async def set_root(self, incident_id: UUID, root_ts: str, investigation_key: str) -> None:
        await self._pool.execute(
            "UPDATE alert_incidents SET root_ts = $2, investigation_key = $3 WHERE id = $1",
            incident_id,
            root_ts,
            investigation_key,
        )

    async def take_unannounced(self, incident_id: UUID) -> list[StoredAlert]:
        """Alerts that joined after the root message and were not said in the thread yet (marks them said)."""
        rows = await self._pool.fetch(
            """UPDATE alerts a SET announced = true FROM alert_incidents i
               WHERE a.incident_id = $1 AND i.id = a.incident_id AND NOT a.announced
                 AND a.id <> i.first_alert_id
               RETURNING a.*""",
            incident_id,
        )
        return sorted((_alert(r) for r in rows), key=lambda a: (a.starts_at, a.id))

    async def take_resolution(self, incident_id: UUID) -> bool:
        """True once, for the job that says in the thread that the incident resolved."""
        done = await self._pool.execute(
            """UPDATE alert_incidents SET resolution_posted = true
               WHERE id = $1 AND status = 'resolved' AND NOT resolution_posted""",
            incident_id,
        )
        return done.endswith(" 1")

    async def mark_processed(self, alert_id: int, status: str) -> None:
        await self._pool.execute("UPDATE alerts SET processed_status = $2 WHERE id = $1", alert_id, status)

    async def set_category(self, incident_id: UUID, category: str) -> None:
        await self._pool.execute(
            "UPDATE alert_incidents SET category = $2 WHERE id = $1", incident_id, category
        )

    async def set_class(self, incident_id: UUID, category: str, severity: str) -> AlertIncident | None:
        row = await self._pool.fetchrow(
            "UPDATE alert_incidents SET category = $2, severity = $3 WHERE id = $1 RETURNING *",
            incident_id,
            category,
            severity,
        )
        return _incident(row) if row is not None else None

    async def for_investigation(self, investigation_key: str) -> AlertIncident | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM alert_incidents WHERE investigation_key = $1", investigation_key
        )
        return _incident(row) if row is not None else None
