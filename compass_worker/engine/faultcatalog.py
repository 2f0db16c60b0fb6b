"""The fault catalog: typed view of `faults.toml` — every FAULTS.md id with its signatures as data."""

from __future__ import annotations

import re
import tomllib
from functools import cached_property
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from compass_worker.errors import ConfigError

Scope = Literal["self", "inbound", "outbound"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceRule(_Frozen):
    signal: str
    scope: Scope = "self"
    direction: Literal["up", "down"]
    weight: float
    level: float | None = None  # absolute level the peak must reach to count fully
    level_ratio: float | None = None  # peak / baseline ratio that counts fully
    refute: Literal["flat", "below"] | None = None
    refute_level: float | None = None
    key: bool = False
    # Key evidence only when followed, on the same component, by one of these departures
    # ("signal:up|down"): memory at its limit and then a restart or the service down is the OOM kill,
    # even where no OOM metric exists and one restart alone is too small to count.
    key_after: tuple[str, ...] = ()
    absolute: bool = False  # reaching `level` is decisive on its own (e.g. a certificate past expiry)
    decisive: bool = False  # its refutation stands even when other evidence supports the fault
    reason: str = ""

    @field_validator("key_after")
    @classmethod
    def _signal_and_direction(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for item in v:
            sig, _, direction = item.partition(":")
            if not sig or direction not in ("up", "down"):
                raise ValueError(f"key_after entry {item!r} must read 'signal:up' or 'signal:down'")
        return v


class LogRule(_Frozen):
    pattern: str
    weight: float
    key: bool = False
    mentions: bool = False  # the line names the faulty component (callers log it)
    anywhere: bool = False  # the line may appear in any component's logs
    # On a host, its residents write the lines (a pod logs the node's full disk): see `rules.py`.
    residents: bool = False

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


class YieldRule(_Frozen):
    """This fault, when another supported one sits next to it, is the effect: it ranks just below."""

    fault: str  # a fault id, or "*" for any specific (non-generic) fault
    # sibling: called by the same caller; caller: calls this component; callee: called by it
    # caller_downstream: anything a caller depends on (a consumer's database slows the consumer)
    relation: Literal["sibling", "caller", "callee", "caller_downstream"]
    kinds: tuple[str, ...] = ()  # only causes on components of these kinds (empty: any)
    include_generic: bool = False  # with fault "*": also a generic cause ("it got slow")


class FaultSpec(_Frozen):
    id: str
    kinds: tuple[str, ...]
    prior: float = Field(gt=0.0, le=1.0)
    summary: str
    gap: str
    explained_by_callees: bool = False  # a callee failing first explains it away (it is then a victim)
    generic: bool = False  # a catch-all: a supported specific fault on the same component explains it away
    # A cause must hurt: one of these signals of the component itself must go bad after the key onset,
    # else the change was harmless (a deploy nobody noticed, a CPU blip with no latency impact).
    corroborate: tuple[str, ...] = ()
    corroborate_reason: str = ""
    corroborate_within_s: float | None = None  # the effect must start this soon after the cause
    # On the symptom's own component a cause needs evidence of its own, not the symptom itself: one of
    # these signals must support it there (a catch-all "it got slow" on the slow service is no answer).
    on_symptom_needs: tuple[str, ...] = ()
    # A cause that only slows things explains a symptom of another kind (errors) only through the
    # symptom's own latency (timeouts are slow): `slows_only` faults need it to have departed.
    slows_only: bool = False
    evidence: tuple[EvidenceRule, ...] = ()
    logs: tuple[LogRule, ...] = ()
    yields_to: tuple[YieldRule, ...] = ()

    @property
    def signals(self) -> frozenset[str]:
        return frozenset(r.signal for r in self.evidence)


class Separator(_Frozen):
    """The observation that tells two look-alike faults apart, as the judge uses it.

    Read on the component of hypothesis `at` ("a" or "b"): when one of `signals` departs in `direction`
    (past `level_ratio` × baseline if given) hypothesis `seen` ("a" or "b") is the answer; when they
    exist and stay normal, `normal` is. Missing signals decide nothing (the pair stays close, and so
    does their confidence)."""

    a: str
    b: str
    a_kind: str | None = None  # only hypotheses on components of this kind
    b_kind: str | None = None
    # same: one component; callee: b's component is called by a's; resident: a's component (or one of
    # its callers) runs on b's host
    relation: Literal["same", "callee", "resident"] = "same"
    at: Literal["a", "b"] = "a"
    signals: tuple[str, ...]
    direction: Literal["up", "down"] = "up"
    level_ratio: float | None = None
    seen: Literal["a", "b"]
    normal: Literal["a", "b"]
    observation: str  # what separates them, in words (the README's table)


class FaultCatalog(_Frozen):
    faults: dict[str, FaultSpec]
    separators: tuple[Separator, ...] = ()

    def get(self, fault_id: str) -> FaultSpec:
        try:
            return self.faults[fault_id]
        except KeyError:
            raise ConfigError(f"unknown fault id {fault_id!r}") from None

    def for_kind(self, kind: str) -> list[FaultSpec]:
        return [f for f in self.faults.values() if kind in f.kinds]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.faults)


def load_faults() -> FaultCatalog:
    text = resources.files("compass_worker.engine").joinpath("faults.toml").read_text("utf-8")
    try:
        raw = tomllib.loads(text)
        faults = {
            fid: FaultSpec.model_validate({"id": fid, **body}) for fid, body in raw.get("fault", {}).items()
        }
        separators = tuple(Separator.model_validate(body) for body in raw.get("separator", []))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"fault catalog: {exc}".splitlines()[0]) from exc
    for sep in separators:
        if {sep.a, sep.b} - set(faults) or sep.seen == sep.normal:
            raise ConfigError(f"fault catalog: separator {sep.a}/{sep.b}: unknown fault or seen == normal")
    for spec in faults.values():
        for rule in spec.logs:
            try:
                re.compile(rule.pattern)
            except re.error as exc:
                raise ConfigError(f"fault catalog: {spec.id}: bad log pattern: {exc}") from exc
    return FaultCatalog(faults=faults, separators=separators)
