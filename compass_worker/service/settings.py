"""The worker service's settings (Slack, Redis, job limits), read once at start-up with the engine's and
the knowledge store's own settings. A bad value stops the process with one line naming it."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from compass_worker.alerts.settings import AlertSettings
from compass_worker.errors import ConfigError
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.reasoners.settings import LlmSettings, load_llm_settings
from compass_worker.settings import Settings

SLACK_API_URL = "https://slack.com/api/"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_api_url: str = Field(default=SLACK_API_URL, validation_alias="COMPASS_SLACK_API_URL")
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "COMPASS_REDIS_URL")
    )
    # Hard limit of one job; an investigation gets this minus a margin so it can say so in the thread.
    job_timeout_s: float = Field(default=180.0, ge=5.0, validation_alias="COMPASS_JOB_TIMEOUT_S")
    max_tries: int = Field(default=3, ge=1, le=20, validation_alias="COMPASS_JOB_MAX_TRIES")
    max_jobs: int = Field(default=8, ge=1, le=256, validation_alias="COMPASS_WORKER_MAX_JOBS")
    # ARQ polls Redis; 0.5 s (its default) adds ~450 ms to every job start, 0.05 s ~30 ms.
    poll_delay_s: float = Field(default=0.05, gt=0.0, le=5.0, validation_alias="COMPASS_POLL_DELAY_S")
    # A running investigation holds a lease this long, renewed every third of it; a worker that dies is
    # noticed within lease + reconcile interval, and its investigation resumes on another (≤ 30 s).
    lease_s: float = Field(default=15.0, ge=1.0, le=600.0, validation_alias="COMPASS_LEASE_S")
    # How often each worker reconciles PostgreSQL (the truth) with Redis (the queue), and how long a
    # queued investigation may be missing from Redis before it is enqueued again.
    reconcile_interval_s: float = Field(default=5.0, gt=0.0, le=300.0, validation_alias="COMPASS_RECONCILE_S")
    queued_grace_s: float = Field(default=10.0, ge=0.0, le=3600.0, validation_alias="COMPASS_QUEUED_GRACE_S")
    # The worker's HTTP probes (/livez, /readyz): off unless a port is set; 127.0.0.1 unless told otherwise
    # (Kubernetes probes the pod's address: the Helm chart sets 0.0.0.0).
    health_port: int = Field(default=0, ge=0, le=65535, validation_alias="COMPASS_WORKER_HEALTH_PORT")
    health_host: str = Field(default="127.0.0.1", validation_alias="COMPASS_WORKER_HEALTH_HOST")
    # Slack user ids who see organisation-wide costs in `/compass cost` (everyone else: their team's).
    admin_users: str = Field(default="", validation_alias="COMPASS_ADMIN_USERS")
    # chat.update of the status message at most this often (Slack allows ~1 message update per second).
    status_interval_s: float = Field(default=1.0, ge=0.0, validation_alias="COMPASS_STATUS_INTERVAL_S")

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.admin_users.split(",") if u.strip())

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value


@dataclass(frozen=True)
class WorkerConfig:
    service: ServiceSettings
    engine: Settings
    knowledge: KnowledgeSettings
    llm: LlmSettings = field(default_factory=lambda: LlmSettings(llm="none"))
    alerts: AlertSettings = field(default_factory=AlertSettings)


def _one_line(exc: ValidationError, prefix: str) -> ConfigError:
    err = exc.errors()[0]
    raw = str(err["loc"][0]) if err["loc"] else "?"
    name = (
        raw.upper()
        if raw.isupper() or raw.upper().startswith(("SLACK", "REDIS", "COMPASS"))
        else prefix + raw.upper()
    )
    msg = "is not set" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
    return ConfigError(f"invalid setting {name}: {msg}")


def load_worker_config() -> WorkerConfig:
    try:
        service = ServiceSettings()
    except ValidationError as exc:
        raise _one_line(exc, "") from None
    try:
        engine = Settings()
        knowledge = KnowledgeSettings()
    except ValidationError as exc:
        raise _one_line(exc, "COMPASS_") from None
    try:
        alerts = AlertSettings()
        alerts.load_dependencies()
    except ValidationError as exc:
        raise _one_line(exc, "COMPASS_ALERT_") from None
    except ValueError as exc:
        raise ConfigError(f"invalid setting COMPASS_ALERT_DEPENDENCIES: {exc}") from None
    if engine.mcp_config is None:
        raise ConfigError("invalid setting COMPASS_MCP_CONFIG: is not set (the MCP servers config file)")
    return WorkerConfig(
        service=service, engine=engine, knowledge=knowledge, llm=load_llm_settings(), alerts=alerts
    )
