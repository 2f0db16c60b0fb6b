"""The user's config file: `~/.config/compass/config.toml` (or $XDG_CONFIG_HOME, or COMPASS_CONFIG_FILE).

Precedence: flags > environment > this file. The file only fills variables the environment leaves unset,
so every command reads its settings exactly as before (one validation path, one error line).

    llm = "ollama:llama3.1:8b"          # lower case: a COMPASS setting → COMPASS_LLM
    mcp_config = "~/mcp.json"
    memory = false
    openai_base_url = "http://127.0.0.1:8000/v1"   # provider / service settings keep their own names
    DATABASE_URL = "postgresql://…"     # UPPER CASE: any variable, verbatim
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import MutableMapping
from pathlib import Path

from compass_worker.errors import ConfigError

# Settings read without the COMPASS_ prefix (providers, services): a lower-case key maps to its upper case.
_UNPREFIXED = frozenset(
    {
        "anthropic_api_key",
        "anthropic_base_url",
        "openai_api_key",
        "openai_base_url",
        "ollama_base_url",
        "database_url",
        "redis_url",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
    }
)


def config_path(env: MutableMapping[str, str]) -> Path:
    explicit = env.get("COMPASS_CONFIG_FILE")
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "compass" / "config.toml"


def variable_for(key: str) -> str:
    if key.isupper():
        return key
    if key in _UNPREFIXED:
        return key.upper()
    return "COMPASS_" + key.upper()


def _text(path: Path, key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return os.path.expanduser(value) if value.startswith("~") else value
    if isinstance(value, list):
        return json.dumps(value)
    raise ConfigError(f"config file {path}: {key} must be a string, number, boolean or list")


def read_user_config(path: Path) -> dict[str, str]:
    """The file as environment variables. ConfigError (one line, naming the file) when it is unreadable."""
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return {variable_for(k): _text(path, k, v) for k, v in raw.items()}


def apply_user_config(env: MutableMapping[str, str]) -> Path | None:
    """Fill unset variables from the config file; the file's path when one was read."""
    path = config_path(env)
    values = read_user_config(path)
    for name, value in values.items():
        env.setdefault(name, value)
    return path if values else None
