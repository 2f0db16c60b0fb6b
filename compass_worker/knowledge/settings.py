"""Knowledge-store settings, read from the environment once at start-up (never at import time)."""

from __future__ import annotations

import importlib.util
import os
from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _migrations_dir() -> Path:
    """Where the numbered SQL files are: the installed package `compass_migrations` (the top-level
    migrations/ folder, mapped by setup.py, in editable and wheel installs alike), else the source tree."""
    spec = importlib.util.find_spec("compass_migrations")
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).resolve().parent
    return Path(__file__).resolve().parents[2] / "migrations"  # a checkout run without `pip install`


DEFAULT_MIGRATIONS_DIR = _migrations_dir()


class EmbedderKind(StrEnum):
    MINILM = "minilm"  # local, offline (default)
    OPENAI = "openai"  # an OpenAI-compatible /v1/embeddings endpoint
    HASHING = "hashing"  # tests only


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/compass, else ~/.local/share/compass (the embedded server lives in <dir>/pg)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "compass"


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPASS_", frozen=True, extra="ignore")

    # A real server (docker-compose, Kubernetes). Unset → an embedded PostgreSQL under data_dir.
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "COMPASS_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    migrations_dir: Path = DEFAULT_MIGRATIONS_DIR
    embedder: EmbedderKind = EmbedderKind.MINILM
    embeddings_url: str | None = None  # e.g. http://localhost:11434/v1
    embeddings_model: str | None = None
    embeddings_api_key: SecretStr | None = None
    # Apply pending migrations when the store opens. None (default): yes for the embedded server (it is
    # COMPASS' own), no for DATABASE_URL (run `compass migrate` as a deploy step; the store then only checks).
    auto_migrate: bool | None = None
    # Connection attempts give up after this long: the CLI answers "unreachable" instead of hanging.
    connect_timeout_s: float = 5.0
