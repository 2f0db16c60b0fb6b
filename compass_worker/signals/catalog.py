"""The signal catalog: typed view of `catalog.toml` (plus any team-provided catalogs).

A catalog maps the metric-naming conventions of common stacks to COMPASS' canonical signals. It is
data so that a team can extend it; this module only validates and selects entries.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compass_worker.errors import ConfigError

Direction = Literal["up", "down", "either"]
ComponentKind = Literal["service", "database", "cache", "queue", "host", "volume", "dns", "external", "any"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignalSpec(_Frozen):
    bad: Direction
    unit: str
    text: str
    floor: float | None = None  # smallest scale for its robust z (overrides the unit's default)


class CatalogEntry(_Frozen):
    """One way a convention expresses one signal."""

    signal: str
    family: str
    kind: ComponentKind
    requires: tuple[str, ...]
    component_labels: tuple[str, ...]
    query: str
    edge: bool = False
    peer_labels: tuple[str, ...] = ()
    unless_present: tuple[str, ...] = ()
    label_required: str | None = None
    prefer_instance_host: bool = False
    peer_kind: ComponentKind | None = None
    caller_label: str | None = None  # a label naming who depends on the component (a consumer group)
    group: str | None = None  # entries of one group with the same labels are fetched in one query
    group_agg: str = "avg"  # the aggregation the group's query applies per metric

    def applies(self, metric_names: frozenset[str]) -> bool:
        return all(m in metric_names for m in self.requires) and not any(
            m in metric_names for m in self.unless_present
        )


class VersionSpec(_Frozen):
    """An info metric whose labels carry the running version (image, service_version...)."""

    family: str
    metric: str | None = None
    metric_regex: str | None = None
    component_labels: tuple[str, ...]
    version_labels: tuple[str, ...]


class PlacementSpec(_Frozen):
    family: str
    metric: str
    component_from: str
    host_label: str


class LogsSpec(_Frozen):
    component_labels: tuple[str, ...]
    error_filter: str


class TracesSpec(_Frozen):
    service_attribute: str
    peer_attributes: tuple[str, ...]


class SignalCatalog(_Frozen):
    signals: dict[str, SignalSpec]
    entries: tuple[CatalogEntry, ...] = Field(alias="entry")
    versions: tuple[VersionSpec, ...] = Field(default=(), alias="version")
    placements: tuple[PlacementSpec, ...] = Field(default=(), alias="placement")
    logs: LogsSpec
    traces: TracesSpec

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def applicable(self, metric_names: Iterable[str]) -> list[CatalogEntry]:
        """Entries whose required metrics exist here. Several entries may serve one signal."""
        names = frozenset(metric_names)
        return [e for e in self.entries if e.applies(names)]

    def spec(self, signal: str) -> SignalSpec:
        return self.signals[signal]

    def units(self) -> dict[str, str]:
        """Signal → its unit, for writing measured values."""
        return {name: spec.unit for name, spec in self.signals.items()}

    def merged(self, other: SignalCatalog) -> SignalCatalog:
        """A team catalog adds entries and signals; it never removes the built-in ones."""
        return SignalCatalog.model_validate(
            {
                "signals": {**self.signals, **other.signals},
                "entry": (*self.entries, *other.entries),
                "version": (*self.versions, *other.versions),
                "placement": (*self.placements, *other.placements),
                "logs": other.logs,
                "traces": other.traces,
            }
        )


def _parse(text: str, origin: str) -> SignalCatalog:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"signal catalog {origin}: invalid TOML: {exc}") from exc
    try:
        catalog = SignalCatalog.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"signal catalog {origin}: {where}: {first['msg']}") from exc
    unknown = sorted({e.signal for e in catalog.entries} - set(catalog.signals))
    if unknown:
        raise ConfigError(f"signal catalog {origin}: entries use undeclared signals: {', '.join(unknown)}")
    return catalog


def load_catalog(extra: Sequence[Path] = ()) -> SignalCatalog:
    """The built-in catalog, extended by team catalogs (later files add to earlier ones)."""
    text = resources.files("compass_worker.signals").joinpath("catalog.toml").read_text("utf-8")
    catalog = _parse(text, "built-in")
    for path in extra:
        try:
            extra_text = path.read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"signal catalog {path}: cannot read: {exc.strerror}") from exc
        catalog = catalog.merged(_parse(extra_text, str(path)))
    return catalog
