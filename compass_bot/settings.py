"""The bot's settings, read once at start-up from the environment (never at import time).

A missing or invalid value stops the process with one line naming the variable (`BotConfigError`).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"


class BotConfigError(Exception):
    """A setting is missing or invalid (the message names it)."""


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    # Slack's Web API base URL; tests and air-gapped demos point it at a local fake.
    slack_api_url: str = Field(default=SLACK_API_URL, validation_alias="COMPASS_SLACK_API_URL")
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "COMPASS_REDIS_URL")
    )
    # Optional: with a database the edge records accepted work in PostgreSQL (investigation rows and an
    # outbox), so nothing it acknowledged is lost while Redis is down; alert webhooks and the REST API
    # need it too (unset, they are not mounted).
    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "COMPASS_DATABASE_URL")
    )
    # Slack retries an event for up to ~1 h; an event id is remembered a little longer than that.
    dedupe_ttl_s: int = Field(default=2 * 3600, ge=60, validation_alias="COMPASS_DEDUPE_TTL_S")
    # How long a thread stays "ours" (replies in it are read as corrections or follow-ups).
    thread_ttl_s: int = Field(default=30 * 86400, ge=3600, validation_alias="COMPASS_THREAD_TTL_S")

    # Per webhook source: a bearer token and/or an HMAC-SHA256 secret (a source with neither accepts nothing).
    alertmanager_token: SecretStr | None = Field(default=None, validation_alias="COMPASS_ALERTMANAGER_TOKEN")
    alertmanager_hmac_secret: SecretStr | None = Field(
        default=None, validation_alias="COMPASS_ALERTMANAGER_HMAC_SECRET"
    )
    grafana_token: SecretStr | None = Field(default=None, validation_alias="COMPASS_GRAFANA_TOKEN")
    grafana_hmac_secret: SecretStr | None = Field(
        default=None, validation_alias="COMPASS_GRAFANA_HMAC_SECRET"
    )
    # How often alerts that could not be enqueued (Redis away) are retried from the outbox.
    outbox_interval_s: float = Field(
        default=1.0, gt=0.0, le=60.0, validation_alias="COMPASS_OUTBOX_INTERVAL_S"
    )

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"  # the SDK joins method names onto it

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("slack_bot_token", "slack_signing_secret")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value


_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "COMPASS_SLACK_API_URL",
    "redis_url": "REDIS_URL",
    "database_url": "DATABASE_URL",
}


def load_bot_settings() -> BotSettings:
    try:
        return BotSettings()
    except ValidationError as exc:
        err = exc.errors()[0]
        raw = str(err["loc"][0]) if err["loc"] else "?"
        name = _NAMES.get(raw.lower(), raw.upper())
        msg = "is not set" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
        raise BotConfigError(f"invalid setting {name}: {msg}") from None
