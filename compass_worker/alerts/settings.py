"""Alert handling settings (read once at start-up with the worker's other settings).

COMPASS_ALERT_ROUTES        JSON object, label match → Slack channel, first match wins:
                            {"team=payments": "C0PAY", "service=checkout": "C0CHK"}
COMPASS_ALERT_CHANNEL       the channel for alerts no route matches (unset: such incidents are only recorded)
COMPASS_ALERT_CHANNEL_RATE  new-incident root messages per channel per minute (a storm waits, never floods)
COMPASS_ALERT_WINDOW_S      how long after an incident's last alert a related alert still joins it (300 s)
COMPASS_ALERT_ONSET_S       how long after an incident began a related alert may still join it (240 s): the
                            alerts of one cascade begin together; a later one is a new problem
COMPASS_ALERT_CAUSE_WINDOW_S how long after an incident began a component its components call may join it as
                            the cause alerting late (120 s)
COMPASS_ALERT_QUIET_S       how long an alert (fingerprint) must have been resolved for its next firing to be
                            a new occurrence, grouped afresh instead of rejoining its old incident (600 s)
COMPASS_ALERT_SIMILARITY    cosine similarity from which alert texts count as "the same problem"
COMPASS_ALERT_DEPENDENCIES  JSON file {component: [components it calls]}: related alerts on a dependency path
COMPASS_ALERT_INVESTIGATE   start an investigation for each new incident (default true)
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from compass_worker.alerts.grouping import DependencyGraph, GroupingPolicy


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPASS_ALERT_", frozen=True, extra="ignore")

    routes: dict[str, str] = Field(default_factory=dict)
    channel: str | None = None
    channel_rate: int = Field(default=6, ge=1, le=600)
    window_s: float = Field(default=300.0, ge=10.0, le=86400.0)
    onset_s: float = Field(default=240.0, ge=0.0, le=86400.0)
    cause_window_s: float = Field(default=120.0, ge=0.0, le=86400.0)
    quiet_s: float = Field(default=600.0, ge=0.0, le=7 * 86400.0)
    similarity: float = Field(default=0.85, gt=0.0, le=1.0)
    dependencies: Path | None = None
    investigate: bool = True

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: dict[str, str]) -> dict[str, str]:
        for match, channel in value.items():
            label, sep, wanted = match.partition("=")
            if not sep or not label or not wanted or not channel:
                raise ValueError(f'route {match!r}: {channel!r} must be "label=value": "CHANNEL"')
        return value

    def policy(self, graph: DependencyGraph) -> GroupingPolicy:
        return GroupingPolicy(
            window_s=self.window_s,
            similarity=self.similarity,
            graph=graph,
            cause_window_s=self.cause_window_s,
            onset_s=self.onset_s,
            quiet_s=self.quiet_s,
        )

    def load_dependencies(self) -> dict[str, tuple[str, ...]]:
        """The dependency map (empty without a file). A ValueError names a malformed file."""
        if self.dependencies is None:
            return {}
        try:
            raw = json.loads(self.dependencies.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read {self.dependencies}: {exc}") from None
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in raw.items()
        ):
            raise ValueError(f"{self.dependencies}: expected {{component: [dependency, ...]}}")
        return {k: tuple(v) for k, v in raw.items()}
