"""`compass lab` subcommands that need no scenario catalogue (list/serve are covered once it exists)."""

from __future__ import annotations

import json

import pytest

from compass_lab.cli import main


def test_mcp_config_prints_a_working_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "mcp-config", "--port", "3123"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    grafana = cfg["mcpServers"]["grafana"]
    assert grafana["env"]["GRAFANA_URL"] == "http://127.0.0.1:3123"
    assert grafana["command"].endswith("mcp-grafana")


def test_bad_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lab", "mcp-config", "--port", "70000"])
    assert info.value.code == 2
    assert "port out of range: 70000" in capsys.readouterr().err


def test_datasets_registry_loads_the_library_and_refuses_unknown_names() -> None:
    from compass_lab.datasets import UnknownDatasetError, load_dataset
    from compass_lab.scenarios import all_scenarios

    lab = load_dataset("lab")
    assert [s.id for s in lab.scenarios()] == [s.id for s in all_scenarios()]
    with pytest.raises(UnknownDatasetError, match="known: lab"):
        load_dataset("no-such-dataset")
