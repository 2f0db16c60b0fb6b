from __future__ import annotations

import json
from pathlib import Path

import pytest

from compass_worker.errors import ConfigError
from compass_worker.telemetry.config import (
    HttpServerSpec,
    StdioServerSpec,
    load_mcp_config,
    parse_mcp_config,
    reveal,
)


def test_stdio_and_http_servers_in_file_order() -> None:
    config = parse_mcp_config(
        json.dumps(
            {
                "mcpServers": {
                    "grafana": {
                        "command": "mcp-grafana",
                        "args": ["-t", "stdio"],
                        "env": {"GRAFANA_URL": "http://g"},
                    },
                    "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"X-Org": "1"}},
                    "off": {"command": "x", "disabled": True},
                }
            }
        ),
        {},
    )
    assert config.names == ("grafana", "remote")
    grafana, remote = config.servers
    assert isinstance(grafana, StdioServerSpec)
    assert grafana.args == ("-t", "stdio")
    assert reveal(grafana.env) == {"GRAFANA_URL": "http://g"}
    assert isinstance(remote, HttpServerSpec)
    assert remote.url == "http://127.0.0.1:9/mcp"


def test_variables_are_expanded_from_the_given_environment() -> None:
    config = parse_mcp_config(
        json.dumps(
            {
                "mcpServers": {
                    "g": {
                        "command": "mcp-grafana",
                        "args": ["--address", "${HOST:-127.0.0.1}:${PORT}"],
                        "env": {"GRAFANA_URL": "${GRAFANA_URL}", "GRAFANA_SERVICE_ACCOUNT_TOKEN": "${TOK}"},
                    }
                }
            }
        ),
        {"GRAFANA_URL": "http://grafana:3000", "TOK": "glsa_secret", "PORT": "8000"},
    )
    spec = config.servers[0]
    assert isinstance(spec, StdioServerSpec)
    assert spec.args == ("--address", "127.0.0.1:8000")
    assert reveal(spec.env) == {
        "GRAFANA_URL": "http://grafana:3000",
        "GRAFANA_SERVICE_ACCOUNT_TOKEN": "glsa_secret",
    }


def test_secrets_never_appear_in_repr_str_or_json() -> None:
    config = parse_mcp_config(
        json.dumps(
            {
                "mcpServers": {
                    "g": {
                        "command": "x",
                        "env": {"GRAFANA_API_KEY": "k-123", "DB_PASSWORD": "p-456", "MY_SECRET": "s-789"},
                    },
                    "h": {"url": "http://h/mcp", "headers": {"Authorization": "Bearer t-000"}},
                }
            }
        ),
        {},
    )
    for shown in (repr(config), str(config), config.model_dump_json(), repr(config.servers[1])):
        for secret in ("k-123", "p-456", "s-789", "t-000"):
            assert secret not in shown


def test_load_reads_compass_mcp_config_when_no_path(tmp_path: Path) -> None:
    file = tmp_path / "mcp.json"
    file.write_text(json.dumps({"mcpServers": {"g": {"command": "mcp-grafana"}}}), encoding="utf-8")
    assert load_mcp_config(None, {"COMPASS_MCP_CONFIG": str(file)}).names == ("g",)
    assert load_mcp_config(str(file), {}).source == str(file)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", "invalid JSON at line 1 column 2"),
        ("[]", "expected a JSON object with an 'mcpServers' key"),
        ("{}", "missing 'mcpServers'"),
        ('{"mcpServers": []}', "'mcpServers' must be an object"),
        ('{"mcpServers": {}}', "no servers configured"),
        ('{"mcpServers": {"g": {"command": "x", "disabled": true}}}', "no servers configured"),
        ('{"mcpServers": {"g": {"args": []}}}', "mcpServers.g: neither 'command' (stdio server) nor 'url'"),
        ('{"mcpServers": {"g": "mcp-grafana"}}', "mcpServers.g: expected an object"),
        (
            '{"mcpServers": {"g": {"command": 3}}}',
            "mcpServers.g.command: expected a non-empty string, got a number",
        ),
        (
            '{"mcpServers": {"g": {"command": "x", "args": "-t"}}}',
            "mcpServers.g.args: expected a list of strings, got a string",
        ),
        (
            '{"mcpServers": {"g": {"command": "x", "env": {"A": 1}}}}',
            "mcpServers.g.env: expected an object of string values",
        ),
        (
            '{"mcpServers": {"g": {"command": "x", "url": "http://h"}}}',
            "give either 'command' or 'url', not both",
        ),
        (
            '{"mcpServers": {"g": {"url": "ftp://h"}}}',
            "mcpServers.g.url: expected an http:// or https:// URL",
        ),
        (
            '{"mcpServers": {"g": {"url": "http://h", "type": "sse"}}}',
            "mcpServers.g.type: unsupported transport 'sse'",
        ),
        ('{"mcpServers": {"a/b": {"command": "x"}}}', "a server name must be non-empty and contain no '/'"),
        (
            '{"mcpServers": {"g": {"command": "x", "env": {"U": "${NOPE}"}}}}',
            "mcpServers.g.env.U: ${NOPE} is not set",
        ),
    ],
)
def test_every_config_error_is_one_clear_line(doc: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mcp_config(doc, {}, source="mcp.json")
    text = str(caught.value)
    assert message in text
    assert text.startswith("MCP config mcp.json")
    assert "\n" not in text


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^no MCP config: pass --mcp-config FILE or set COMPASS_MCP_CONFIG$"
    ):
        load_mcp_config(None, {})
    with pytest.raises(ConfigError, match=r"missing\.json: file not found$"):
        load_mcp_config(str(tmp_path / "missing.json"), {})
    binary = tmp_path / "bad.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"bad\.json: cannot read"):
        load_mcp_config(str(binary), {})
