"""Worker/CLI settings, read once at start-up from the environment (prefix COMPASS_) and passed in.

Nothing reads the environment at import time; `load_settings()` is called by the entry point and a
bad value stops the process with one line naming the variable.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from compass_worker.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPASS_", extra="ignore", frozen=True)

    mcp_config: str | None = Field(
        default=None, description="path of the MCP servers config (mcpServers JSON)"
    )
    tool_timeout_s: float = Field(default=20.0, gt=0, description="per tool-call timeout")
    max_concurrency: int = Field(default=8, ge=1, le=64, description="tool calls in flight per investigation")
    wall_clock_s: float = Field(default=60.0, gt=0, description="per-investigation wall-clock budget")
    tool_call_budget: int = Field(default=200, ge=10, description="tool calls per investigation")
    signal_catalog: list[Path] = Field(default_factory=list, description="extra signal catalogs (TOML)")
    mcp_log_dir: Path | None = Field(default=None, description="where MCP servers' stderr goes")
    memory: bool = Field(default=True, description="consult and record past incidents (knowledge store)")
    runbooks: list[Path] = Field(
        default_factory=list, description="team catalogs of runbooks and fault patterns (TOML)"
    )


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "COMPASS_" + str(err["loc"][0]).upper() if err["loc"] else "COMPASS_*"
        raise ConfigError(f"invalid setting {name}: {err['msg']}") from None
