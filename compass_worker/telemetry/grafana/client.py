"""`GrafanaClient`: typed calls to mcp-grafana 2.1.1 tools over any `Toolset`.

Each method builds the tool's arguments (times as RFC3339 UTC), calls the toolset once (or pages),
and returns a `Result`: `Data`, `NoData` (ran, nothing there) or `Failed` (did not run). It never
raises for a tool failure — a failed check is a gap in the evidence, not a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from compass_worker.telemetry.grafana import wire
from compass_worker.telemetry.grafana.models import (
    Datasource,
    InstantResult,
    LabelMatcher,
    LogEntry,
    LogPattern,
    MetricMetadata,
    QueryResult,
    Trace,
    TraceSummary,
)
from compass_worker.telemetry.grafana.results import Data, Failed, NoData, Result
from compass_worker.telemetry.grafana.timefmt import epoch_ms, rfc3339
from compass_worker.telemetry.toolset import QUALIFIER, JsonValue, ToolOutcome, Toolset

# list_prometheus_metric_names defaults to 10 results and refuses page*limit > 10000.
METRIC_PAGE = 2000
METRIC_CAP = 10_000
# list_prometheus_label_names/values default to 100; ask for as many as metric names allow.
LABEL_LIMIT = 10_000
DATASOURCE_PAGE = 100  # list_datasources' maximum


class GrafanaClient:
    """Typed access to mcp-grafana. ``server`` pins calls to one configured server (``server/tool``)."""

    def __init__(self, toolset: Toolset, server: str | None = None) -> None:
        self._toolset = toolset
        self._prefix = f"{server}{QUALIFIER}" if server else ""

    async def _call(self, tool: str, arguments: Mapping[str, JsonValue]) -> ToolOutcome:
        args = {k: v for k, v in arguments.items() if v is not None}
        return await self._toolset.call_tool(self._prefix + tool, args)

    # datasources -----------------------------------------------------------------------------

    async def datasources(self, type: str | None = None) -> Result[list[Datasource]]:
        found: list[Datasource] = []
        offset = 0
        while True:
            outcome = await self._call(
                "list_datasources", {"type": type, "limit": DATASOURCE_PAGE, "offset": offset}
            )
            page = wire.parse(outcome, wire.DatasourcePage)
            if isinstance(page, Failed):
                return page
            items = page.items()
            found.extend(items)
            if not page.has_more or not items:
                break
            offset += len(items)
        if not found:
            return NoData(reason=f"no {type + ' ' if type else ''}datasources configured in Grafana")
        return Data(value=found)

    # Prometheus ------------------------------------------------------------------------------

    async def metric_names(
        self, ds: str, regex: str | None = None, start: float | None = None, end: float | None = None
    ) -> Result[list[str]]:
        names: list[str] = []
        page = 1
        while page * METRIC_PAGE <= METRIC_CAP:
            outcome = await self._call(
                "list_prometheus_metric_names",
                {
                    "datasourceUid": ds,
                    "regex": regex,
                    "limit": METRIC_PAGE,
                    "page": page,
                    **_range(start, end),
                },
            )
            batch = wire.strings(outcome, "metric names")
            if isinstance(batch, Failed):
                return batch
            items = batch.value if isinstance(batch, Data) else []
            names.extend(items)
            if len(items) < METRIC_PAGE:
                break
            page += 1
        return Data(value=names) if names else NoData(reason=_none("metric names", regex))

    async def metric_metadata(self, ds: str, limit: int = METRIC_CAP) -> Result[dict[str, MetricMetadata]]:
        """TYPE / UNIT / HELP per metric (`list_prometheus_metric_metadata`); many stores keep none."""
        outcome = await self._call("list_prometheus_metric_metadata", {"datasourceUid": ds, "limit": limit})
        return wire.metric_metadata(outcome)

    async def label_names(
        self,
        ds: str,
        matchers: Sequence[LabelMatcher] | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> Result[list[str]]:
        outcome = await self._call(
            "list_prometheus_label_names",
            {
                "datasourceUid": ds,
                "matches": _selectors(matchers),
                "limit": LABEL_LIMIT,
                **_range(start, end),
            },
        )
        return wire.strings(outcome, "label names")

    async def label_values(
        self,
        ds: str,
        label: str,
        matchers: Sequence[LabelMatcher] | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> Result[list[str]]:
        outcome = await self._call(
            "list_prometheus_label_values",
            {
                "datasourceUid": ds,
                "labelName": label,
                "matches": _selectors(matchers),
                "limit": LABEL_LIMIT,
                **_range(start, end),
            },
        )
        return wire.strings(outcome, f"values for label {label}")

    async def query_range(
        self, ds: str, expr: str, start: float, end: float, step_s: int
    ) -> Result[QueryResult]:
        outcome = await self._call(
            "query_prometheus",
            {
                "datasourceUid": ds,
                "expr": expr,
                "queryType": "range",
                "startTime": rfc3339(start),
                "endTime": rfc3339(end),
                "stepSeconds": max(1, int(step_s)),
            },
        )
        return wire.prom_matrix(outcome)

    async def query_instant(self, ds: str, expr: str, at: float) -> Result[InstantResult]:
        outcome = await self._call(
            "query_prometheus",
            # 2.1.1 evaluates an instant query at endTime (startTime is ignored).
            {"datasourceUid": ds, "expr": expr, "queryType": "instant", "endTime": rfc3339(at)},
        )
        return wire.prom_vector(outcome)

    # Loki ------------------------------------------------------------------------------------

    async def loki_label_names(
        self, ds: str, start: float | None = None, end: float | None = None, matcher: str | None = None
    ) -> Result[list[str]]:
        outcome = await self._call(
            "list_loki_label_names", {"datasourceUid": ds, "matcher": matcher, **_range(start, end)}
        )
        return wire.strings(outcome, "log labels")

    async def loki_label_values(
        self,
        ds: str,
        label: str,
        start: float | None = None,
        end: float | None = None,
        matcher: str | None = None,
    ) -> Result[list[str]]:
        outcome = await self._call(
            "list_loki_label_values",
            {"datasourceUid": ds, "labelName": label, "matcher": matcher, **_range(start, end)},
        )
        return wire.strings(outcome, f"values for log label {label}")

    async def loki_logs(
        self,
        ds: str,
        logql: str,
        start: float,
        end: float,
        limit: int = 100,
        direction: str = "backward",
    ) -> Result[list[LogEntry]]:
        outcome = await self._call(
            "query_loki_logs",
            {
                "datasourceUid": ds,
                "logql": logql,
                "limit": limit,
                "direction": direction,
                "format": "full",
                **_range(start, end),
            },
        )
        return wire.loki_logs(outcome)

    async def loki_metric_range(
        self, ds: str, logql: str, start: float, end: float, step_s: int
    ) -> Result[QueryResult]:
        outcome = await self._call(
            "query_loki_logs",
            {
                "datasourceUid": ds,
                "logql": logql,
                "queryType": "range",
                "stepSeconds": max(1, int(step_s)),
                **_range(start, end),
            },
        )
        return wire.loki_matrix(outcome)

    async def loki_patterns(
        self, ds: str, selector: str, start: float, end: float
    ) -> Result[list[LogPattern]]:
        outcome = await self._call(
            "query_loki_patterns", {"datasourceUid": ds, "logql": selector, **_range(start, end)}
        )
        return wire.loki_patterns(outcome)

    # Tempo -----------------------------------------------------------------------------------

    async def tempo_search(
        self, ds: str, traceql: str, start: float, end: float, limit: int = 20
    ) -> Result[list[TraceSummary]]:
        # search_tempo_traces has no limit argument in 2.1.1: Tempo's default applies, we cut locally.
        outcome = await self._call(
            "search_tempo_traces",
            {"datasourceUid": ds, "query": traceql, "start": rfc3339(start), "end": rfc3339(end)},
        )
        return wire.tempo_search(outcome, limit)

    async def tempo_trace(self, ds: str, trace_id: str) -> Result[Trace]:
        outcome = await self._call("get_tempo_trace", {"datasourceUid": ds, "trace_id": trace_id})
        return wire.tempo_trace(outcome, trace_id)

    async def tempo_attribute_names(self, ds: str, scope: str | None = "resource") -> Result[list[str]]:
        outcome = await self._call("list_tempo_attribute_names", {"datasourceUid": ds, "scope": scope})
        return wire.tempo_attribute_names(outcome)

    async def tempo_attribute_values(self, ds: str, name: str) -> Result[list[str]]:
        outcome = await self._call("list_tempo_attribute_values", {"datasourceUid": ds, "name": name})
        return wire.tempo_attribute_values(outcome)

    # links -----------------------------------------------------------------------------------

    async def explore_link(
        self, ds_uid: str, query: str, start: float, end: float, datasource_type: str = "prometheus"
    ) -> str | None:
        """A Grafana Explore URL for ``query`` (via generate_deeplink, which knows Grafana's base URL).

        Prometheus results already carry ``explore_url``; use this for Loki and Tempo evidence.
        """
        target: dict[str, JsonValue] = {"refId": "A", "expr": query}
        if datasource_type == "tempo":
            target = {"refId": "A", "query": query, "queryType": "traceql"}
        outcome = await self._call(
            "generate_deeplink",
            {
                "resourceType": "explore",
                "datasourceUid": ds_uid,
                "queries": [target],
                "timeRange": {"from": epoch_ms(start), "to": epoch_ms(end)},
            },
        )
        url = outcome.text.strip()
        return url if outcome.ok and url.startswith(("http://", "https://")) else None


def _range(start: float | None, end: float | None) -> dict[str, JsonValue]:
    return {
        "startRfc3339": rfc3339(start) if start is not None else None,
        "endRfc3339": rfc3339(end) if end is not None else None,
    }


def _selectors(matchers: Sequence[LabelMatcher] | None) -> list[JsonValue] | None:
    if not matchers:
        return None
    return [{"filters": [{"name": m.name, "value": m.value, "type": m.op} for m in matchers]}]


def _none(what: str, regex: str | None) -> str:
    return f"no {what} found" + (f" matching /{regex}/" if regex else "")
