"""The engine's window onto telemetry: one `GrafanaClient`, the incident's time range, and bookkeeping.

It picks the datasources to use, de-duplicates identical queries (a check shared by hypotheses runs
once), records every query issued (for the evidence trail and the lab's parity test) and builds
Explore links for Loki/Tempo evidence locally, in the same format mcp-grafana uses for Prometheus,
instead of spending a tool call per link.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from urllib.parse import quote

from compass_worker.domain.models import Incident
from compass_worker.telemetry.grafana.client import GrafanaClient
from compass_worker.telemetry.grafana.models import Datasource, QueryResult
from compass_worker.telemetry.grafana.results import Data, Failed, NoData, Result


@dataclass(frozen=True)
class QueryRecord:
    datasource: str
    kind: str  # "promql_range" | "promql_instant" | "logql" | "traceql" | "discovery"
    query: str
    start: float
    end: float
    step_s: int
    outcome: str  # "data" | "no_data" | "failed"
    error: str | None = None


@dataclass
class TelemetrySource:
    client: GrafanaClient
    incident: Incident
    step_s: int = 30
    prometheus: list[Datasource] = field(default_factory=list)
    loki: list[Datasource] = field(default_factory=list)
    tempo: list[Datasource] = field(default_factory=list)
    records: list[QueryRecord] = field(default_factory=list)
    _cache: dict[tuple[str, str, float, float, int], asyncio.Task[Result[QueryResult]]] = field(
        default_factory=dict
    )
    explore_base: str | None = None

    @property
    def start(self) -> float:
        return self.incident.start

    @property
    def end(self) -> float:
        return self.incident.at

    @property
    def rate_window(self) -> str:
        # ≥ 4 samples at a 30 s scrape, short enough to keep onsets sharp.
        return "2m"

    async def discover_datasources(self) -> Result[list[Datasource]]:
        res = await self.client.datasources()
        if isinstance(res, Data):
            by_type: dict[str, list[Datasource]] = {"prometheus": [], "loki": [], "tempo": []}
            for ds in res.value:
                t = ds.type.lower()
                if t in ("prometheus", "mimir", "cortex", "thanos"):
                    by_type["prometheus"].append(ds)
                elif t in by_type:
                    by_type[t].append(ds)
            # The default datasource first: it is the one the team looks at.
            for lst in by_type.values():
                lst.sort(key=lambda d: (not d.is_default, d.name))
            self.prometheus, self.loki, self.tempo = by_type["prometheus"], by_type["loki"], by_type["tempo"]
        return res

    def record(
        self, ds: str, kind: str, query: str, start: float, end: float, step: int, res: object
    ) -> None:
        if isinstance(res, Data):
            outcome, err = "data", None
        elif isinstance(res, NoData):
            outcome, err = "no_data", None
        elif isinstance(res, Failed):
            outcome, err = "failed", res.error
        else:
            outcome, err = "data", None
        self.records.append(QueryRecord(ds, kind, query, start, end, step, outcome, err))

    async def prom_range(
        self, expr: str, *, ds: str | None = None, start: float | None = None, step_s: int | None = None
    ) -> Result[QueryResult]:
        if not self.prometheus and ds is None:
            return Failed(error="no Prometheus datasource")
        uid = ds or self.prometheus[0].uid
        s = self.start if start is None else start
        st = step_s or self.step_s
        key = (uid, expr, s, self.end, st)
        task = self._cache.get(key)
        if task is None:
            task = asyncio.ensure_future(self.client.query_range(uid, expr, s, self.end, st))
            self._cache[key] = task
            res = await task
            self.record(uid, "promql_range", expr, s, self.end, st, res)
            if isinstance(res, Data) and res.value.explore_url and self.explore_base is None:
                self.explore_base = res.value.explore_url.split("/explore?", 1)[0]
            return res
        return await task

    async def logql_range(self, logql: str, step_s: int = 60) -> Result[QueryResult]:
        if not self.loki:
            return Failed(error="no Loki datasource")
        uid = self.loki[0].uid
        res = await self.client.loki_metric_range(uid, logql, self.start, self.end, step_s)
        self.record(uid, "logql", logql, self.start, self.end, step_s, res)
        return res

    def explore_link(self, ds_uid: str, query: str, *, traceql: bool = False) -> str | None:
        """Same shape as mcp-grafana's exploreUrl, so a person lands on the same query."""
        if not self.explore_base:
            return None
        target: dict[str, object] = {"datasource": {"uid": ds_uid}, "refId": "A"}
        if traceql:
            target.update({"query": query, "queryType": "traceql"})
        else:
            target["expr"] = query
        panes = {
            "a": {
                "datasource": ds_uid,
                "queries": [target],
                "range": {"from": str(int(self.start * 1000)), "to": str(int(self.end * 1000))},
            }
        }
        encoded = quote(json.dumps(panes, separators=(",", ":")), safe="")
        return f"{self.explore_base}/explore?panes={encoded}&schemaVersion=1"
