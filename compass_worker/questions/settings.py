"""Settings of the question answerer, read once at start-up."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class QuestionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPASS_", frozen=True, extra="ignore")

    # Where thread links point: your workspace's URL (https://acme.slack.com); slack.com redirects when
    # the reader is signed in.
    slack_workspace_url: str = "https://slack.com"
