"""MCP server configuration in the ecosystem's own format (Claude Desktop, Cursor, Claude Code).

    {"mcpServers": {
        "grafana": {"command": "mcp-grafana", "args": [], "env": {"GRAFANA_URL": "${GRAFANA_URL}"}},
        "remote":  {"url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}}}}

``${VAR}`` and ``${VAR:-default}`` in args, env values, url and headers are expanded from the
environment mapping passed in (never read at import time). Servers with ``"disabled": true`` are
skipped; unknown keys (``autoApprove``, ``timeout``...) are ignored, as other clients do.
Every problem raises `ConfigError` with one line naming the file and the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from compass_worker.errors import ConfigError

CONFIG_ENV_VAR = "COMPASS_MCP_CONFIG"

_SECRET_WORDS = ("TOKEN", "KEY", "PASSWORD", "SECRET", "CREDENTIAL", "AUTH", "COOKIE")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Value = str | SecretStr


def is_secret_name(name: str) -> bool:
    """Whether a variable or header name suggests a secret (``GRAFANA_SERVICE_ACCOUNT_TOKEN``...)."""
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


def reveal(values: Mapping[str, Value]) -> dict[str, str]:
    """Plain strings, for handing to the subprocess or the HTTP client — never for logs."""
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()}


class StdioServerSpec(BaseModel):
    """A server started as a child process speaking MCP over stdin/stdout."""

    model_config = ConfigDict(frozen=True)

    transport: Literal["stdio"] = "stdio"
    name: str
    command: str
    args: tuple[str, ...] = ()
    env: dict[str, Value] = {}
    """Secret-looking names hold `SecretStr`, so repr, str and JSON dumps mask them."""
    cwd: str | None = None


class HttpServerSpec(BaseModel):
    """A server reached over MCP streamable HTTP."""

    model_config = ConfigDict(frozen=True)

    transport: Literal["http"] = "http"
    name: str
    url: str
    headers: dict[str, Value] = {}


McpServerSpec = Annotated[StdioServerSpec | HttpServerSpec, Field(discriminator="transport")]


class McpConfig(BaseModel):
    """The configured servers, in file order (that order decides tool routing)."""

    model_config = ConfigDict(frozen=True)

    servers: tuple[McpServerSpec, ...]
    source: str = "<string>"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.servers)


def load_mcp_config(path: str | None, env: Mapping[str, str]) -> McpConfig:
    """Read the config from ``path``, else from the file named by ``$COMPASS_MCP_CONFIG``."""
    if path is None:
        path = env.get(CONFIG_ENV_VAR) or None
        if path is None:
            raise ConfigError(f"no MCP config: pass --mcp-config FILE or set {CONFIG_ENV_VAR}")
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"MCP config {path}: file not found")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"MCP config {path}: cannot read: {exc}") from exc
    return parse_mcp_config(text, env, source=path)


def parse_mcp_config(text: str, env: Mapping[str, str], *, source: str = "<string>") -> McpConfig:
    """Parse a JSON document in the ``mcpServers`` format."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"MCP config {source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"MCP config {source}: expected a JSON object with an 'mcpServers' key")
    servers = raw.get("mcpServers")
    if servers is None:
        raise ConfigError(f"MCP config {source}: missing 'mcpServers'")
    if not isinstance(servers, dict):
        raise ConfigError(f"MCP config {source}: 'mcpServers' must be an object of name -> server")
    specs = [_server(source, name, body, env) for name, body in servers.items()]
    enabled = tuple(s for s in specs if s is not None)
    if not enabled:
        raise ConfigError(f"MCP config {source}: no servers configured under 'mcpServers'")
    return McpConfig(servers=enabled, source=source)


def _server(
    source: str, name: str, body: object, env: Mapping[str, str]
) -> StdioServerSpec | HttpServerSpec | None:
    where = f"MCP config {source}: mcpServers.{name}"
    if not name.strip() or "/" in name:
        raise ConfigError(f"{where}: a server name must be non-empty and contain no '/'")
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: expected an object with 'command' or 'url'")
    if body.get("disabled") is True:
        return None
    kind = body.get("type")
    if kind is not None and kind not in ("stdio", "http", "streamable-http", "streamableHttp"):
        raise ConfigError(f"{where}.type: unsupported transport {kind!r} (use stdio or http)")
    has_command, has_url = "command" in body, "url" in body
    if has_command and has_url:
        raise ConfigError(f"{where}: give either 'command' or 'url', not both")
    if has_command:
        return StdioServerSpec(
            name=name,
            command=_expand(where + ".command", _string(where + ".command", body["command"]), env),
            args=tuple(_expand(f"{where}.args", a, env) for a in _strings(where + ".args", body.get("args"))),
            env=_values(where + ".env", body.get("env"), env),
            cwd=_optional_string(where + ".cwd", body.get("cwd")),
        )
    if has_url:
        url = _expand(where + ".url", _string(where + ".url", body["url"]), env)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.url: expected an http:// or https:// URL, got {url!r}")
        return HttpServerSpec(
            name=name, url=url, headers=_values(where + ".headers", body.get("headers"), env)
        )
    raise ConfigError(f"{where}: neither 'command' (stdio server) nor 'url' (HTTP server) is given")


def _string(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a non-empty string, got {_json_type(value)}")
    return value


def _optional_string(where: str, value: object) -> str | None:
    return None if value is None else _string(where, value)


def _strings(where: str, value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {_json_type(value)}")
    return list(value)


def _values(where: str, value: object, env: Mapping[str, str]) -> dict[str, Value]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: expected an object of string values, got {_json_type(value)}")
    out: dict[str, Value] = {}
    for key, raw in value.items():
        expanded = _expand(f"{where}.{key}", raw, env)
        out[key] = SecretStr(expanded) if is_secret_name(key) else expanded
    return out


def _expand(where: str, text: str, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        if var in env:
            return env[var]
        if default is not None:
            return default
        raise ConfigError(f"{where}: ${{{var}}} is not set in the environment")

    return _VAR.sub(substitute, text)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
