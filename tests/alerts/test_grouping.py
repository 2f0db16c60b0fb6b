"""Grouping through the store (real PostgreSQL + pgvector): which alerts share an incident, which must not."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from arq.connections import ArqRedis

from compass_bot.webhooks.inbox import AlertInbox
from compass_bot.webhooks.models import AlertRow
from compass_worker.alerts.classify import classify
from compass_worker.alerts.grouping import Candidate, DependencyGraph, decide
from compass_worker.alerts.routing import ChannelRateLimit, Routes
from compass_worker.alerts.store import AlertIncident, AlertIncidentStore, Assignment, GroupingPolicy
from compass_worker.knowledge import HashingEmbedder, KnowledgeStore

T0 = 1.8e9
# checkout → payments → payments-db; catalog → catalog-db
GRAPH = DependencyGraph({"checkout": ["payments"], "payments": ["payments-db"], "catalog": ["catalog-db"]})


def row(
    fingerprint: str, at: float, *, name: str, service: str | None, summary: str, status: str = "firing"
) -> AlertRow:
    labels = {"alertname": name, **({"service": service} if service else {})}
    return AlertRow(
        source="alertmanager",
        fingerprint=fingerprint,
        starts_at=datetime.fromtimestamp(T0 + at, UTC),
        ends_at=None,
        status=status,  # type: ignore[arg-type]
        name=name,
        summary=summary,
        labels=labels,
        annotations={"summary": summary},
        group_key=f"{name}/{service}",
        generator_url=None,
    )


class Replay:
    def __init__(self, store: KnowledgeStore) -> None:
        self.inbox = AlertInbox(store.pool, None)  # type: ignore[arg-type]  # accept() needs no Redis
        self.incidents = AlertIncidentStore(store.pool, HashingEmbedder())
        self.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=GRAPH, cause_window_s=300)

    async def send(self, alert: AlertRow) -> Assignment:
        [ref] = await self.inbox.accept([alert])
        stored = await self.incidents.alert(ref.alert_id)
        assert stored is not None
        return await self.incidents.assign(
            stored,
            self.policy,
            lambda a: classify(a.name, a.summary, a.labels, a.annotations),
            lambda _: "C1",
        )

    async def pin(self, incident_id: UUID, cause: str) -> list[AlertIncident]:
        """The incident's investigation named `cause` (as `compass worker` pins it after a verdict);
        the incidents opened for the alerts that left it."""
        regrouped = await self.incidents.pin_cause(
            incident_id,
            cause,
            self.policy,
            lambda a: classify(a.name, a.summary, a.labels, a.annotations),
            lambda _: "C1",
        )
        return regrouped.opened


@pytest.fixture
def replay(store: KnowledgeStore) -> Replay:
    return Replay(store)


async def test_a_cause_and_its_callers_are_one_incident(replay: Replay) -> None:
    first = await replay.send(row("a", 0, name="PostgresSlowQueries", service="payments-db", summary="slow"))
    assert first.created and first.incident.category == "latency"
    caller = await replay.send(row("b", 60, name="HighRequestLatency", service="payments", summary="p99 up"))
    top = await replay.send(row("c", 90, name="HighErrorRate", service="checkout", summary="5xx up"))
    pod2 = await replay.send(row("d", 95, name="HighErrorRate", service="checkout", summary="5xx up"))
    assert [caller.grouped_by, top.grouped_by, pod2.grouped_by] == ["dependency", "dependency", "group_key"]
    assert {caller.incident.id, top.incident.id, pod2.incident.id} == {first.incident.id}
    assert pod2.incident.alert_count == 4 and pod2.incident.severity == "high"  # raised by the 5xx alert


async def test_unrelated_components_and_late_callees_open_their_own_incidents(replay: Replay) -> None:
    checkout = await replay.send(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"))
    other = await replay.send(row("b", 30, name="HighErrorRate", service="catalog", summary="5xx"))
    assert other.created and other.incident.id != checkout.incident.id  # same rule, unrelated service
    late_callee = await replay.send(
        row("c", 400, name="HostOutOfDiskSpace", service="payments-db", summary="disk")
    )
    assert late_callee.created  # checkout's incident is no longer young: a new fault, not its cause
    beyond = await replay.send(row("d", 1000, name="HighErrorRate", service="checkout", summary="5xx"))
    assert beyond.created  # past the window after checkout's last alert


async def test_same_fingerprint_rejoins_and_similar_text_without_component_joins(replay: Replay) -> None:
    first = await replay.send(
        row("a", 0, name="QueueBacklogGrowing", service=None, summary="orders queue depth up")
    )
    again = await replay.send(
        row("a", 120, name="QueueBacklogGrowing", service=None, summary="orders queue depth up")
    )
    assert (again.grouped_by, again.incident.id) == ("fingerprint", first.incident.id)
    alike = await replay.send(
        row("b", 150, name="QueueBacklog", service=None, summary="orders queue depth up")
    )
    assert (alike.grouped_by, alike.incident.id) == ("similar", first.incident.id)


async def test_an_alert_first_seen_resolved_opens_a_resolved_incident_and_a_retry_changes_nothing(
    replay: Replay,
) -> None:
    done = await replay.send(
        row("a", 0, name="TargetDown", service="payments", summary="down", status="resolved")
    )
    assert done.created and done.incident.status == "resolved" and done.incident.category == "availability"
    stored = await replay.incidents.alert(done.incident.first_alert_id)
    assert stored is not None
    retry = await replay.incidents.assign(
        stored, replay.policy, lambda _: pytest.fail("not again"), lambda _: None
    )
    assert not retry.created and retry.incident.id == done.incident.id


async def test_routes_first_match_and_the_channel_rate_limit(redis: ArqRedis) -> None:
    routes = Routes({"team=payments": "CPAY", "service=checkout": "CCHK"}, "CDEFAULT")
    assert routes.channel_for({"service": "checkout", "team": "payments"}) == "CPAY"
    assert routes.channel_for({"service": "checkout"}) == "CCHK"
    assert routes.channel_for({"service": "search"}) == "CDEFAULT"
    limit = ChannelRateLimit(redis, per_minute=2)
    now = 1_800_000_010.0
    assert [await limit.wait_s("CPAY", now) for _ in range(3)] == [0.0, 0.0, pytest.approx(50.05)]
    assert await limit.wait_s("CCHK", now) == 0.0  # per channel
    assert await limit.wait_s("CPAY", now + 60) == 0.0  # the next minute


def scoped(alert: AlertRow, **labels: str) -> AlertRow:
    return alert.model_copy(update={"labels": {**alert.labels, **labels}})


async def test_a_conflicting_scope_or_a_late_onset_opens_a_new_incident(replay: Replay) -> None:
    prod = await replay.send(
        scoped(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"), cluster="prod")
    )
    staging = await replay.send(
        scoped(row("b", 10, name="TargetDown", service="checkout", summary="down"), cluster="staging")
    )
    assert staging.created  # the same component name in another cluster is another deployment
    same = await replay.send(
        scoped(row("c", 200, name="TargetDown", service="checkout", summary="down"), cluster="prod")
    )
    assert (same.grouped_by, same.incident.id) == ("component", prod.incident.id)
    # Still within the window after checkout's last alert (200 s), but 300 s after the incident began.
    late = await replay.send(
        scoped(row("d", 300, name="PodRestarts", service="checkout", summary="restarts"), cluster="prod")
    )
    assert late.created


async def test_a_gateway_alert_joins_the_incident_whose_cause_it_calls(store: KnowledgeStore) -> None:
    replay = Replay(store)
    replay.policy = GroupingPolicy(
        window_s=300,
        similarity=0.6,
        graph=DependencyGraph(
            {"edge": ["checkout", "catalog"], "checkout": ["payments-db"], "catalog": ["catalog-db"]}
        ),
    )
    cause = await replay.send(row("a", 0, name="PostgresSlowQueries", service="catalog-db", summary="slow"))
    edge = await replay.send(row("b", 30, name="HighRequestLatency", service="edge", summary="p99"))
    assert (edge.grouped_by, edge.incident.id) == ("dependency", cause.incident.id)
    # The edge calls payments-db too, but the incident's cause (catalog-db) does not: another fault.
    other = await replay.send(row("c", 60, name="HostOutOfDiskSpace", service="payments-db", summary="disk"))
    assert other.created
    # checkout calls the new incident's cause, not the first's: it joins the new one.
    caller = await replay.send(row("d", 90, name="HighErrorRate", service="checkout", summary="5xx"))
    assert (caller.grouped_by, caller.incident.id) == ("dependency", other.incident.id)


async def test_the_incident_is_titled_and_classified_after_its_earliest_alert(replay: Replay) -> None:
    later = await replay.send(
        row("a", 100, name="HighErrorRate", service="payments", summary="5xx on payments")
    )
    assert (later.incident.title, later.incident.category) == ("5xx on payments", "errors")
    earlier = await replay.send(
        row("b", 40, name="PostgresSlowQueries", service="payments", summary="slow queries on payments")
    )
    assert earlier.incident.id == later.incident.id
    assert (earlier.incident.title, earlier.incident.category) == ("slow queries on payments", "latency")
    assert earlier.incident.opened_at == datetime.fromtimestamp(T0 + 40, UTC)
    assert earlier.incident.first_alert_id == later.incident.first_alert_id  # its announcer stays the same


async def test_once_the_investigation_names_the_cause_alerts_are_grouped_against_it(replay: Replay) -> None:
    first = await replay.send(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"))
    await replay.pin(first.incident.id, "Payments")  # the verdict named payments
    stored = await replay.incidents.incident(first.incident.id)
    assert stored is not None and stored.cause_component == "payments"
    on_cause = await replay.send(row("b", 10, name="HighRequestLatency", service="payments", summary="p99"))
    caller = await replay.send(row("c", 15, name="HighErrorRate", service="checkout", summary="5xx"))
    assert [on_cause.incident.id, caller.incident.id] == [first.incident.id] * 2
    assert (on_cause.grouped_by, caller.grouped_by) == ("component", "group_key")
    # A young incident would take a callee's alert as its cause alerting late; its cause is known now.
    callee = await replay.send(row("d", 20, name="HostOutOfDiskSpace", service="payments-db", summary="d"))
    assert callee.created


async def test_before_the_cause_is_named_a_callee_alerting_early_joins_as_the_cause(replay: Replay) -> None:
    first = await replay.send(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"))
    callee = await replay.send(row("b", 20, name="HostOutOfDiskSpace", service="payments-db", summary="d"))
    assert (callee.grouped_by, callee.incident.id) == ("dependency", first.incident.id)


def test_a_named_cause_keeps_components_the_dependency_map_cannot_place() -> None:
    at = datetime.fromtimestamp(T0 + 60, UTC)
    incident = Candidate(
        id=uuid4(),
        shares_group_key=False,
        components=("checkout", "payments-db", "ledger"),
        opened_at=datetime.fromtimestamp(T0, UTC),
        last_alert_at=at,
        similarity=None,
        cause="payments",
    )

    def where(component: str) -> str:
        got = decide(
            at=at, fingerprint_incident=None, component=component, candidates=[incident], graph=GRAPH,
            similarity=0.6,
        )  # fmt: skip
        return got.grouped_by

    # The map places payments-db below the cause (another fault there); it cannot place ledger.
    assert [where("checkout"), where("payments-db"), where("ledger")] == ["dependency", "new", "component"]


async def test_a_pinned_cause_detaches_the_alerts_that_joined_off_its_path(replay: Replay) -> None:
    first = await replay.send(row("a", 0, name="HighErrorRate", service="payments", summary="5xx"))
    # A young incident takes a callee as its cause alerting late, and a caller as inheriting the fault.
    disk = row("b", 20, name="HostOutOfDiskSpace", service="payments-db", summary="d")
    callee = await replay.send(scoped(disk, severity="critical"))
    caller = await replay.send(row("c", 30, name="HighRequestLatency", service="checkout", summary="p99"))
    assert {callee.incident.id, caller.incident.id} == {first.incident.id}
    assert callee.incident.severity == "critical"
    # The investigation names payments (one of the incident's own alerts is about it): payments-db, below
    # it, is another fault; checkout, above it, stays.
    [opened] = await replay.pin(first.incident.id, "payments")
    moved = await replay.incidents.alert(opened.first_alert_id)
    assert moved is not None and moved.fingerprint == "b" and moved.grouped_by == "new"
    assert moved.processed_status is None  # its job runs again and announces the new incident
    assert (opened.components, opened.alert_count, opened.severity) == (("payments-db",), 1, "critical")
    kept = await replay.incidents.incident(first.incident.id)
    assert kept is not None and kept.cause_component == "payments"
    # Its count, components and severity are its remaining alerts' (the critical disk alert left).
    assert (kept.components, kept.alert_count, kept.severity) == (("payments", "checkout"), 2, "high")
    # The next disk alert joins the detached incident, not the pinned one.
    again = await replay.send(row("d", 40, name="HostOutOfDiskSpace", service="payments-db", summary="d"))
    assert (again.grouped_by, again.incident.id) == ("group_key", opened.id)


async def test_a_cause_none_of_the_incidents_alerts_is_about_detaches_nothing(replay: Replay) -> None:
    first = await replay.send(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"))
    callee = await replay.send(row("b", 20, name="HostOutOfDiskSpace", service="payments-db", summary="d"))
    # A verdict naming payments, which never alerted, is kept for later alerts but does not take apart
    # what the alerts grouped (it may be wrong; the alerts are what was seen).
    assert await replay.pin(first.incident.id, "payments") == []
    kept = await replay.incidents.incident(first.incident.id)
    assert kept is not None and kept.alert_count == 2 and callee.incident.id == kept.id


async def test_a_detached_alert_joins_another_open_incident_it_belongs_to(store: KnowledgeStore) -> None:
    replay = Replay(store)
    replay.policy = GroupingPolicy(
        window_s=300,
        similarity=0.6,
        graph=DependencyGraph({"web": ["api"], "api": ["db"], "worker": ["queue"]}),
        cause_window_s=300,
    )
    web = await replay.send(row("a", 0, name="HighErrorRate", service="web", summary="5xx"))
    api = await replay.send(row("b", 5, name="HighErrorRate", service="api", summary="5xx"))
    queue = await replay.send(row("c", 10, name="QueueBacklogGrowing", service="queue", summary="lag"))
    assert queue.created
    # db is below api: while web's incident is young it joins as its possible cause …
    db = await replay.send(row("d", 20, name="PostgresSlowQueries", service="db", summary="slow"))
    assert db.incident.id == web.incident.id == api.incident.id
    # … until the investigation names api: db is off its path (a callee), and, grouped again, it opens
    # its own incident (the queue's incident is unrelated).
    [opened] = await replay.pin(web.incident.id, "api")
    assert opened.id != queue.incident.id and opened.components == ("db",)
    worker = await replay.send(row("e", 30, name="ConsumerLagHigh", service="worker", summary="lag"))
    assert (worker.grouped_by, worker.incident.id) == ("dependency", queue.incident.id)


async def _disk_then_down(
    store: KnowledgeStore, calls: dict[str, list[str]]
) -> tuple[Replay, Assignment, Assignment]:
    """payments-db's disk fills, then catalog goes down 20 s later: two incidents of their own."""
    replay = Replay(store)
    replay.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=DependencyGraph(calls))
    payments_db = await replay.send(
        row("a", 0, name="HostOutOfDiskSpace", service="payments-db", summary="d")
    )
    catalog = await replay.send(row("b", 20, name="TargetDown", service="catalog", summary="down"))
    assert catalog.created
    return replay, payments_db, catalog


async def test_an_alert_on_the_path_of_two_open_incidents_opens_its_own(store: KnowledgeStore) -> None:
    replay, payments_db, catalog = await _disk_then_down(
        store, {"edge": ["checkout", "catalog"], "checkout": ["payments-db"]}
    )
    # One path only: checkout inherits payments-db's fault.
    checkout = await replay.send(row("c", 30, name="HighErrorRate", service="checkout", summary="5xx"))
    assert (checkout.grouped_by, checkout.incident.id) == ("dependency", payments_db.incident.id)
    # The edge calls both suspected causes: the map cannot say which fault it inherits.
    edge = await replay.send(row("d", 60, name="HighErrorRate", service="edge", summary="5xx"))
    assert edge.created and edge.incident.id not in {payments_db.incident.id, catalog.incident.id}


async def test_a_callee_does_not_join_an_incident_whose_cause_already_alerted_elsewhere(
    store: KnowledgeStore,
) -> None:
    replay, payments_db, catalog = await _disk_then_down(
        store,
        {"edge": ["checkout", "catalog", "search"], "checkout": ["payments-db"], "catalog": ["catalog-db"]},
    )
    edge = await replay.send(row("c", 60, name="HighErrorRate", service="edge", summary="5xx"))
    assert edge.created  # the edge calls both: its own incident
    # search is a callee of the edge only, and the edge's incident is young; but what the edge calls has
    # already failed (payments-db, catalog): search failing now is a fault of its own, not the edge's cause.
    search = await replay.send(row("d", 90, name="TargetDown", service="search", summary="down"))
    assert search.created
    assert search.incident.id not in {payments_db.incident.id, catalog.incident.id, edge.incident.id}


async def test_a_shared_component_is_no_tie_breaker_when_the_incident_opened_on_a_tie(
    store: KnowledgeStore,
) -> None:
    replay, payments_db, catalog = await _disk_then_down(
        store, {"edge": ["checkout", "catalog"], "checkout": ["payments-db"]}
    )
    edge = await replay.send(row("c", 60, name="HighErrorRate", service="edge", summary="5xx"))
    assert edge.created  # the edge calls both suspected causes: its own incident
    # Another rule on the edge is as much a guess between the two as its first was: its own incident too.
    latency = await replay.send(row("d", 90, name="HighRequestLatency", service="edge", summary="p99"))
    assert latency.created
    assert latency.incident.id not in {payments_db.incident.id, catalog.incident.id, edge.incident.id}
    # The edge's own rule still joins the incident it opened (its group key).
    pod2 = await replay.send(row("e", 100, name="HighErrorRate", service="edge", summary="5xx"))
    assert (pod2.grouped_by, pod2.incident.id) == ("group_key", edge.incident.id)


def test_only_an_incident_that_began_earlier_explains_a_young_incident() -> None:
    graph = DependencyGraph({"edge": ["checkout", "search"], "checkout": ["payments-db"]})

    def incident(component: str, at: float) -> Candidate:
        opened = datetime.fromtimestamp(T0 + at, UTC)
        return Candidate(
            id=uuid4(), shares_group_key=False, components=(component,), opened_at=opened,
            last_alert_at=opened, similarity=None,
        )  # fmt: skip

    edge = incident("edge", 0)

    def search_joins(*others: Candidate) -> bool:
        got = decide(
            at=datetime.fromtimestamp(T0 + 40, UTC),
            fingerprint_incident=None, component="search", candidates=[edge, *others], graph=graph,
            similarity=0.6,
        )  # fmt: skip
        return got.incident_id == edge.id

    assert search_joins()  # a callee alerting soon after: the young incident's cause
    assert search_joins(incident("payments-db", 20))  # began after the edge: cannot explain its alerts
    assert not search_joins(incident("payments-db", -20))  # began before: the edge's alerts have a cause


def resolved(alert: AlertRow, at: float) -> AlertRow:
    return alert.model_copy(update={"status": "resolved", "ends_at": datetime.fromtimestamp(T0 + at, UTC)})


async def test_an_alert_quiet_past_the_quiet_gap_fires_a_new_occurrence(replay: Replay) -> None:
    replay.policy = GroupingPolicy(window_s=3600, similarity=0.6, graph=GRAPH, onset_s=3600, quiet_s=600)
    first = await replay.send(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"))
    await replay.send(row("b", 10, name="HighRequestLatency", service="checkout", summary="p99"))  # fires on
    await replay.send(resolved(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"), 60))
    # Flapping: it fires again within the quiet gap after it resolved — the same occurrence.
    flap = await replay.send(row("a", 300, name="HighErrorRate", service="checkout", summary="5xx"))
    assert (flap.grouped_by, flap.incident.id) == ("fingerprint", first.incident.id)
    await replay.send(resolved(row("a", 300, name="HighErrorRate", service="checkout", summary="5xx"), 400))
    # Quiet for longer than the gap: a new occurrence, grouped afresh (here by its component; the
    # fingerprint alone no longer ties it).
    later = await replay.send(row("a", 1100, name="HighErrorRate", service="checkout", summary="5xx"))
    assert later.grouped_by != "fingerprint"


async def test_an_incident_on_infrastructure_the_map_cannot_place_makes_a_dependency_tie_ambiguous(
    store: KnowledgeStore,
) -> None:
    replay = Replay(store)
    # coredns is listed without calls: the map cannot say which services resolve names through it.
    graph = DependencyGraph({"checkout": ["payments"], "payments": ["psp-api"], "coredns": []})
    replay.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=graph)
    psp = await replay.send(row("a", 0, name="TargetDown", service="psp-api", summary="down"))
    dns = await replay.send(row("b", 20, name="CoreDNSErrorsHigh", service="coredns", summary="SERVFAIL"))
    assert dns.created
    # payments calls psp-api, but it may as well be failing its lookups: its own incident, not a guess.
    payments = await replay.send(row("c", 60, name="HighErrorRate", service="payments", summary="5xx"))
    assert payments.created and payments.incident.id not in {psp.incident.id, dns.incident.id}
    # Direct evidence is not a guess: another DNS alert joins the DNS incident.
    again = await replay.send(row("d", 70, name="CoreDNSErrorsHigh", service="coredns", summary="SERVFAIL"))
    assert (again.grouped_by, again.incident.id) == ("group_key", dns.incident.id)


async def test_without_an_infrastructure_incident_the_single_path_still_joins(store: KnowledgeStore) -> None:
    replay = Replay(store)
    graph = DependencyGraph({"checkout": ["payments"], "payments": ["psp-api"], "coredns": []})
    replay.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=graph)
    psp = await replay.send(row("a", 0, name="TargetDown", service="psp-api", summary="down"))
    payments = await replay.send(row("c", 60, name="HighErrorRate", service="payments", summary="5xx"))
    assert (payments.grouped_by, payments.incident.id) == ("dependency", psp.incident.id)


async def test_an_incident_whose_firing_alerts_all_left_is_resolved(
    replay: Replay, store: KnowledgeStore
) -> None:
    first = await replay.send(row("a", 0, name="HighErrorRate", service="payments", summary="5xx"))
    await replay.send(row("b", 20, name="HostOutOfDiskSpace", service="payments-db", summary="d"))
    done = await replay.send(
        resolved(row("a", 0, name="HighErrorRate", service="payments", summary="5xx"), 60)
    )
    stored = await replay.incidents.alert(done.incident.first_alert_id)
    assert stored is not None and stored.status == "resolved"
    still = await replay.incidents.resolve(stored)
    assert still is not None and still.status == "firing"  # the disk alert fires on
    [opened] = await replay.pin(first.incident.id, "payments")
    kept = await replay.incidents.incident(first.incident.id)
    assert kept is not None and (kept.status, kept.alert_count) == ("resolved", 1)
    assert kept.resolved_at == datetime.fromtimestamp(T0 + 60, UTC) and opened.status == "firing"


async def test_a_shared_component_is_no_tie_breaker_while_infrastructure_the_map_cannot_place_is_failing(
    store: KnowledgeStore,
) -> None:
    replay = Replay(store)
    graph = DependencyGraph({"checkout": ["payments"], "payments": ["psp-api"], "node-7": []})
    replay.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=graph)
    first = await replay.send(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"))
    node = await replay.send(row("b", 20, name="NodeNetworkRetransmitsHigh", service="node-7", summary="tcp"))
    assert node.created
    # checkout already alerted in the first incident, but its latency may as well come from the failing
    # node (which anything may run on): another rule on checkout now is a guess, so it opens its own.
    latency = await replay.send(row("c", 60, name="HighRequestLatency", service="checkout", summary="p99"))
    assert latency.created and latency.incident.id not in {first.incident.id, node.incident.id}
    # Its later pods join it by group key, and the first incident's own rule still joins the first.
    pod2 = await replay.send(row("d", 70, name="HighRequestLatency", service="checkout", summary="p99"))
    assert (pod2.grouped_by, pod2.incident.id) == ("group_key", latency.incident.id)
    again = await replay.send(row("e", 80, name="HighErrorRate", service="checkout", summary="5xx"))
    assert (again.grouped_by, again.incident.id) == ("group_key", first.incident.id)


async def test_without_such_an_incident_a_shared_component_still_joins(replay: Replay) -> None:
    first = await replay.send(row("a", 0, name="HighErrorRate", service="checkout", summary="5xx"))
    latency = await replay.send(row("c", 60, name="HighRequestLatency", service="checkout", summary="p99"))
    assert (latency.grouped_by, latency.incident.id) == ("component", first.incident.id)


async def test_a_new_rule_on_the_named_cause_long_after_the_incident_began_is_a_second_fault(
    store: KnowledgeStore,
) -> None:
    replay = Replay(store)
    replay.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=GRAPH, cause_window_s=120)
    first = await replay.send(row("a", 0, name="PostgresSlowQueries", service="payments-db", summary="slow"))
    await replay.pin(first.incident.id, "payments-db")
    early = await replay.send(row("b", 60, name="HostOutOfDiskSpace", service="payments-db", summary="disk"))
    assert (early.grouped_by, early.incident.id) == ("component", first.incident.id)  # the cause alerting
    again = await replay.send(
        row("c", 200, name="PostgresSlowQueries", service="payments-db", summary="slow")
    )
    assert (again.grouped_by, again.incident.id) == ("group_key", first.incident.id)  # its own rule
    # Another rule on the cause 200 s after the incident began: a second fault there, not this one's.
    late = await replay.send(row("d", 200, name="ContainerOOMKilled", service="payments-db", summary="oom"))
    assert late.created
    caller = await replay.send(row("e", 210, name="HighRequestLatency", service="payments", summary="p99"))
    assert caller.created  # a caller of both faults' component is a tie: its own incident, not a guess


async def test_once_callers_alerted_a_new_rule_on_the_suspected_cause_long_after_is_a_second_fault(
    store: KnowledgeStore,
) -> None:
    replay = Replay(store)
    replay.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=GRAPH, cause_window_s=120)
    first = await replay.send(row("a", 0, name="PostgresSlowQueries", service="payments-db", summary="slow"))
    caller = await replay.send(row("b", 60, name="HighRequestLatency", service="payments", summary="p99"))
    assert (caller.grouped_by, caller.incident.id) == ("dependency", first.incident.id)
    early = await replay.send(row("c", 90, name="HostOutOfDiskSpace", service="payments-db", summary="d"))
    assert (early.grouped_by, early.incident.id) == ("component", first.incident.id)  # the cause alerting
    again = await replay.send(
        row("d", 200, name="PostgresSlowQueries", service="payments-db", summary="slow")
    )
    assert (again.grouped_by, again.incident.id) == ("group_key", first.incident.id)  # its own rule
    # No verdict yet, but its caller has alerted: payments-db is the suspected cause, whose alerts begin
    # with the incident. Another rule on it 200 s later is a second fault there.
    late = await replay.send(row("e", 200, name="ContainerOOMKilled", service="payments-db", summary="oom"))
    assert late.created


async def test_a_lone_components_later_rules_still_join_it(store: KnowledgeStore) -> None:
    replay = Replay(store)
    replay.policy = GroupingPolicy(window_s=300, similarity=0.6, graph=GRAPH, cause_window_s=120)
    first = await replay.send(row("a", 0, name="ErrorsAfterRollout", service="checkout", summary="rollout"))
    # Nothing has alerted around checkout: it may be the symptom of a cause yet to alert, and its own
    # later rules are the same problem.
    later = await replay.send(row("b", 200, name="HighErrorRate", service="checkout", summary="5xx"))
    assert (later.grouped_by, later.incident.id) == ("component", first.incident.id)
