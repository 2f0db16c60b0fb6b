"""A team's own catalog (TOML, `COMPASS_RUNBOOKS`): runbook links and fault patterns with their queries.

```toml
[[runbook]]
title = "payments-db: failover and slow-query triage"
url = "https://wiki.example.com/runbooks/payments-db"
components = ["payments-db", "*-db"]          # shell-style globs on component names
faults = ["db_slow_queries", "dependency_outage"]   # empty: any fault

[[pattern]]
name = "pgbouncer clients waiting"
component = "payments-db"                     # a glob too
fault = "db_connection_pool_exhaustion"
when = ["timeout acquiring", "pool"]          # words in the symptom that make the team suspect it (optional)
query = 'max(pgbouncer_pools_client_waiting_connections{database="{component}"})'
purpose = "clients waiting for a pooled connection"
```

Patterns are proposals, like an LLM's: the engine validates them (a known component, a fault id, a query
that parses), runs the query through the same allowlisted client, and records the result as evidence;
scores and the verdict still come from the engine's own evidence rules. Runbooks are linked from the
verdict when a root cause matches.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from compass_worker.engine.faultcatalog import load_faults
from compass_worker.errors import ConfigError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Runbook(_Frozen):
    title: str = Field(min_length=1, max_length=200)
    url: HttpUrl
    components: tuple[str, ...] = ("*",)
    faults: tuple[str, ...] = ()

    def matches(self, component: str, fault: str) -> bool:
        on_component = any(fnmatch.fnmatchcase(component, g) for g in self.components)
        return on_component and (not self.faults or fault in self.faults)


class Pattern(_Frozen):
    name: str = Field(min_length=1, max_length=200)
    component: str
    fault: str
    when: tuple[str, ...] = ()
    language: Literal["promql"] = "promql"
    query: str | None = None
    purpose: str = ""
    runbook: HttpUrl | None = None


class TeamCatalog(_Frozen):
    runbooks: tuple[Runbook, ...] = ()
    patterns: tuple[Pattern, ...] = ()

    def runbooks_for(self, component: str, fault: str) -> list[Runbook]:
        found = [r for r in self.runbooks if r.matches(component, fault)]
        found += [
            Runbook(title=p.name, url=p.runbook, components=(p.component,), faults=(p.fault,))
            for p in self.patterns
            if p.runbook is not None and fnmatch.fnmatchcase(component, p.component) and p.fault == fault
        ]
        return found

    @property
    def empty(self) -> bool:
        return not self.runbooks and not self.patterns


def _load_one(path: Path) -> TeamCatalog:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"runbook catalog {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"runbook catalog {path}: not valid TOML ({exc})") from None
    unknown = set(data) - {"runbook", "pattern"}
    if unknown:
        raise ConfigError(f"runbook catalog {path}: unknown table(s) {', '.join(sorted(unknown))}")
    try:
        catalog = TeamCatalog(runbooks=data.get("runbook", ()), patterns=data.get("pattern", ()))
    except ValidationError as exc:
        err = exc.errors()[0]
        table = {"runbooks": "runbook", "patterns": "pattern"}  # the TOML's names, not the model's
        where = ".".join(table.get(str(p), str(p)) for p in err["loc"])
        raise ConfigError(f"runbook catalog {path}: {where}: {err['msg']}") from None
    known = load_faults().faults
    for fault in [f for r in catalog.runbooks for f in r.faults] + [p.fault for p in catalog.patterns]:
        if fault not in known:
            raise ConfigError(f"runbook catalog {path}: unknown fault id {fault!r} (see `compass faults`)")
    return catalog


def load_team_catalog(paths: Sequence[Path]) -> TeamCatalog:
    """Every file merged in order; a bad file stops start-up with one line naming it."""
    runbooks: list[Runbook] = []
    patterns: list[Pattern] = []
    for path in paths:
        one = _load_one(path)
        runbooks += one.runbooks
        patterns += one.patterns
    return TeamCatalog(runbooks=tuple(runbooks), patterns=tuple(patterns))
