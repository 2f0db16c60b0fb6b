"""Running one investigation end to end: MCP config → sessions → allowlisted Grafana client → engine.

Shared by `compass investigate`, `compass demo`, the lab benchmark and the ARQ worker, so that all of
them investigate the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from compass_worker.domain.events import Event, Sink, VerdictReached
from compass_worker.domain.models import Incident, RunbookLink, Verdict
from compass_worker.engine.faultcatalog import FaultCatalog, load_faults
from compass_worker.engine.investigation import Budget, Investigator, PriorSource
from compass_worker.engine.source import QueryRecord
from compass_worker.errors import ServerUnavailable
from compass_worker.reasoners.protocol import Reasoner
from compass_worker.runbooks import CompositeReasoner, TeamCatalog, TeamCatalogReasoner, load_team_catalog
from compass_worker.settings import Settings
from compass_worker.signals.catalog import SignalCatalog, load_catalog
from compass_worker.telemetry.allowlist import DEFAULT_READ_ONLY_TOOLS, AllowlistToolset
from compass_worker.telemetry.config import McpConfig
from compass_worker.telemetry.grafana.client import GrafanaClient
from compass_worker.telemetry.session import open_toolsets
from compass_worker.telemetry.shared import SessionPool
from compass_worker.telemetry.toolset import LiveToolset

GRAFANA_MARKER_TOOLS = frozenset({"query_prometheus", "list_datasources"})


@dataclass
class Catalogs:
    signals: SignalCatalog
    faults: FaultCatalog
    team: TeamCatalog = field(default_factory=TeamCatalog)

    @classmethod
    def load(cls, settings: Settings) -> Catalogs:
        return cls(load_catalog(settings.signal_catalog), load_faults(), load_team_catalog(settings.runbooks))


def with_team(reasoner: Reasoner | None, team: TeamCatalog) -> Reasoner | None:
    """The team's patterns are proposed beside the LLM's (or alone, when there is no LLM)."""
    if not team.patterns:
        return reasoner
    own = TeamCatalogReasoner(team)
    return own if reasoner is None else CompositeReasoner(own, reasoner)


class _RunbookSink:
    """Links the team's runbooks into the verdict before any sink (Slack, terminal, store) sees it."""

    def __init__(self, inner: Sink, team: TeamCatalog) -> None:
        self._inner = inner
        self._team = team

    async def emit(self, event: Event) -> None:
        if isinstance(event, VerdictReached):
            event = event.model_copy(update={"verdict": link_runbooks(event.verdict, self._team)})
        await self._inner.emit(event)


def link_runbooks(verdict: Verdict, team: TeamCatalog) -> Verdict:
    links = [
        RunbookLink(component=rc.component, fault=rc.fault, title=rb.title, url=str(rb.url))
        for rc in verdict.root_causes
        for rb in team.runbooks_for(rc.component, rc.fault)
    ]
    return verdict.model_copy(update={"runbooks": tuple(links)}) if links else verdict


def _toolset(
    config: McpConfig, settings: Settings, sessions: SessionPool | None
) -> AbstractAsyncContextManager[LiveToolset]:
    if sessions is not None:
        return sessions.lease(max_concurrency=settings.max_concurrency)
    return open_toolsets(
        config,
        call_timeout_s=settings.tool_timeout_s,
        max_concurrency=settings.max_concurrency,
        log_dir=settings.mcp_log_dir,
    )


@dataclass
class RunResult:
    verdict: Verdict
    queries: list[QueryRecord] = field(default_factory=list)
    unavailable: Mapping[str, str] = field(default_factory=dict)


async def grafana_server(pool: LiveToolset) -> str | None:
    """The configured server that speaks mcp-grafana's tools (the first one, if several)."""
    tools = await pool.list_tools()
    by_server: dict[str, set[str]] = {}
    for t in tools:
        by_server.setdefault(t.server, set()).add(t.name)
    for server in pool.servers:
        if by_server.get(server, set()) >= GRAFANA_MARKER_TOOLS:
            return server
    return None


async def investigate(
    incident: Incident,
    config: McpConfig,
    settings: Settings,
    sink: Sink,
    *,
    catalogs: Catalogs | None = None,
    memory: PriorSource | None = None,
    reasoner: Reasoner | None = None,
    sessions: SessionPool | None = None,
) -> RunResult:
    """Raises ServerUnavailable (with the reasons) when no telemetry server could be reached at all.
    With `sessions` (a worker's pool, same config) the investigation leases those instead of opening some."""
    cats = catalogs or Catalogs.load(settings)
    async with _toolset(config, settings, sessions) as pool:
        if not pool.servers or len(pool.unavailable) == len(config.names):
            reasons = "; ".join(f"{k}: {v}" for k, v in pool.unavailable.items()) or "no servers configured"
            raise ServerUnavailable(f"no MCP server reachable ({reasons})")
        server = await grafana_server(pool)
        if server is None:
            raise ServerUnavailable(
                "no configured MCP server offers Grafana's query tools (query_prometheus)"
            )
        client = GrafanaClient(AllowlistToolset(pool, DEFAULT_READ_ONLY_TOOLS), server=server)
        engine = Investigator(
            client,
            cats.signals,
            cats.faults,
            budget=Budget(wall_clock_s=settings.wall_clock_s, tool_calls=settings.tool_call_budget),
            calls=lambda: pool.calls,
            memory=memory,
            reasoner=with_team(reasoner, cats.team),
        )
        linking = _RunbookSink(sink, cats.team) if cats.team.runbooks or cats.team.patterns else sink
        verdict = link_runbooks(await engine.run(incident, linking), cats.team)
        extra_gaps = tuple(f"MCP server {k} unavailable: {v}" for k, v in pool.unavailable.items())
        if extra_gaps:
            verdict = verdict.model_copy(update={"gaps": (*extra_gaps, *verdict.gaps)})
        records = engine.last_source.records if engine.last_source else []
        return RunResult(verdict, records, dict(pool.unavailable))
