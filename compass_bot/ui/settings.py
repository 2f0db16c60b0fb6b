"""The dashboard's settings, read once at start-up from the environment.

COMPASS_UI_TOKENS   who may log in: comma-separated `name:scope:token` entries, scope one of read, feedback,
                    admin (admin may promote and retire learned patterns). Empty: nobody can log in.
COMPASS_UI_SECRET   the key that signs session cookies and CSRF tokens. Unset: a random key per process
                    (sessions then end when the bot restarts and are not shared between replicas).
COMPASS_UI_SESSION_HOURS  how long a login lasts (12).
COMPASS_UI_POLL_S   how often a running investigation's page refreshes its timeline (2).
COMPASS_UI_HEALTH_TIMEOUT_S  the Health page's per-check time limit (10).
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from compass_bot.settings import BotConfigError


class UiConfigError(BotConfigError):
    """A dashboard setting is invalid (the message names it); `compass bot` prints it as one line."""


class TokenScope(StrEnum):
    """The REST API's scopes, so that one token list can later serve both."""

    READ = "read"
    FEEDBACK = "feedback"
    ADMIN = "admin"


class UiToken(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    scope: TokenScope
    token: SecretStr


def parse_tokens(raw: str) -> tuple[UiToken, ...]:
    tokens: list[UiToken] = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        name, _, rest = entry.partition(":")
        scope, _, token = rest.partition(":")
        if not name or not token:
            raise ValueError("each entry must be name:scope:token")
        if scope not in TokenScope.__members__.values():
            raise ValueError(f"scope {scope!r} of {name} is not one of read, feedback, admin")
        if len(token) < 16:
            raise ValueError(f"the token of {name} is shorter than 16 characters")
        tokens.append(UiToken(name=name, scope=TokenScope(scope), token=SecretStr(token)))
    names = [t.name for t in tokens]
    if len(set(names)) != len(names):
        raise ValueError("a name appears twice")
    return tuple(tokens)


class UiSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    tokens: Annotated[tuple[UiToken, ...], NoDecode] = Field(default=(), validation_alias="COMPASS_UI_TOKENS")
    secret: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)), validation_alias="COMPASS_UI_SECRET"
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, validation_alias="COMPASS_UI_SESSION_HOURS")
    poll_s: float = Field(default=2.0, ge=0.2, le=60, validation_alias="COMPASS_UI_POLL_S")
    health_timeout_s: float = Field(
        default=10.0, gt=0, le=120, validation_alias="COMPASS_UI_HEALTH_TIMEOUT_S"
    )

    @field_validator("tokens", mode="before")
    @classmethod
    def _tokens(cls, value: object) -> object:
        return parse_tokens(value) if isinstance(value, str) else value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value


_NAMES = {
    "tokens": "COMPASS_UI_TOKENS",
    "secret": "COMPASS_UI_SECRET",
    "session_hours": "COMPASS_UI_SESSION_HOURS",
    "poll_s": "COMPASS_UI_POLL_S",
    "health_timeout_s": "COMPASS_UI_HEALTH_TIMEOUT_S",
}


def load_ui_settings() -> UiSettings:
    try:
        return UiSettings()
    except ValidationError as exc:
        err = exc.errors()[0]
        raw = str(err["loc"][0]) if err["loc"] else "?"
        name = _NAMES.get(raw, raw.upper())
        msg = "is not set" if err["type"] == "missing" else str(err["msg"]).removeprefix("Value error, ")
        raise UiConfigError(f"invalid setting {name}: {msg}") from None
