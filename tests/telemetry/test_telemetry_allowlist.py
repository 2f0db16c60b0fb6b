from __future__ import annotations

import pytest
from telemetry_testkit import RecordingToolset, grafana_tools

from compass_worker.errors import ConfigError
from compass_worker.telemetry.allowlist import DEFAULT_READ_ONLY_TOOLS, AllowlistToolset, ToolNotAllowed

WRITE_TOOLS = [
    "update_dashboard",
    "create_annotation",
    "create_folder",
    "create_incident",
    "create_datasource",
    "delete_annotation",
    "delete_snapshot",
    "alerting_rules_write",
    "alerting_silences_write",
    "alerting_routing_write",
    "grafana_api_request",
    "install_plugin",
    "update_datasource",
    "update_annotation",
    "update_alert_group",
    "update_incident",
    "add_activity_to_incident",
]


def _disguises(name: str) -> list[str]:
    return [
        name,
        name.upper(),
        name.title(),
        f" {name}",
        f"{name} ",
        f"{name}\n",
        f"\t{name}",
        f"grafana/{name}",
        f"grafana/grafana/{name}",
        f"query_prometheus/{name}",
        f"grafana/ {name}",
        name.replace("_", "-"),
        name.replace("a", "\u0430"),  # Cyrillic a
        f"{name}\x00",
    ]


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_write_tools_are_refused_in_every_disguise(tool: str) -> None:
    inner = RecordingToolset({"query_prometheus": "{}", tool: "done"})
    guarded = AllowlistToolset(inner)
    for name in _disguises(tool):
        with pytest.raises(ToolNotAllowed, match="not on the read-only allowlist"):
            await guarded.call_tool(name, {"dashboard": {"title": "x"}})
    assert inner.calls == []


async def test_allowed_tools_pass_through_with_their_exact_name() -> None:
    inner = RecordingToolset({"query_prometheus": '{"data": []}'})
    guarded = AllowlistToolset(inner)
    plain = await guarded.call_tool("query_prometheus", {"expr": "up"})
    qualified = await guarded.call_tool("grafana/query_prometheus", {"expr": "up"})
    assert plain.ok
    assert qualified.ok
    assert [name for name, _ in inner.calls] == ["query_prometheus", "grafana/query_prometheus"]


async def test_list_tools_hides_tools_outside_the_allowlist() -> None:
    inner = RecordingToolset(
        tools=["query_prometheus", "update_dashboard", "list_datasources", "install_plugin"]
    )
    names = [t.name for t in await AllowlistToolset(inner).list_tools()]
    assert names == ["query_prometheus", "list_datasources"]


async def test_a_custom_allowlist_is_the_whole_truth() -> None:
    inner = RecordingToolset({"query_prometheus": "{}", "list_datasources": "{}"})
    guarded = AllowlistToolset(inner, frozenset({"list_datasources"}))
    with pytest.raises(ToolNotAllowed):
        await guarded.call_tool("query_prometheus", {})
    assert issubclass(ToolNotAllowed, ConfigError)
    assert inner.calls == []


def test_default_allowlist_matches_the_real_mcp_grafana_tools() -> None:
    tools = {str(t["name"]): t for t in grafana_tools()}
    assert set(tools) >= DEFAULT_READ_ONLY_TOOLS, DEFAULT_READ_ONLY_TOOLS - set(tools)
    for name in DEFAULT_READ_ONLY_TOOLS - {"generate_deeplink"}:  # builds a URL, no Grafana request
        hints = tools[name].get("annotations")
        assert isinstance(hints, dict), name
        assert hints.get("readOnlyHint") is True, name
    not_read_only = {
        n
        for n, t in tools.items()
        if not (isinstance(t.get("annotations"), dict) and t["annotations"].get("readOnlyHint"))
    }
    assert DEFAULT_READ_ONLY_TOOLS & not_read_only == {"generate_deeplink"}
    assert set(WRITE_TOOLS) <= not_read_only
