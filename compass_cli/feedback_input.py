"""Checking what `compass feedback` is told: the investigation (a unique id prefix, as git does) and the
actual cause (a FAULTS.md fault id — or a unique prefix of one — on a component the incident had)."""

from __future__ import annotations

import re
from uuid import UUID

from compass_worker.engine.faultcatalog import load_faults
from compass_worker.knowledge.errors import InvalidInput, NotFound
from compass_worker.knowledge.records import Cause
from compass_worker.knowledge.store import KnowledgeStore

MIN_PREFIX = 4
_HEX = re.compile(r"^[0-9a-f-]+$")


def check_id(text: str) -> str:
    """A full id or a hex prefix of at least MIN_PREFIX characters (lower-cased); InvalidInput otherwise."""
    t = text.strip().lower()
    try:
        return str(UUID(t))
    except ValueError:
        pass
    if len(t.replace("-", "")) >= MIN_PREFIX and _HEX.match(t):
        return t
    raise InvalidInput(
        f"not an investigation id: {text!r} "
        f"(a full id or its first {MIN_PREFIX}+ characters; see `compass history`)"
    )


async def resolve_id(store: KnowledgeStore, text: str) -> UUID:
    """The one investigation whose id starts with `text`; InvalidInput when none or several do."""
    try:
        return UUID(text)
    except ValueError:
        pass
    rows = await store.pool.fetch(
        "SELECT id FROM investigations WHERE id::text LIKE $1 ORDER BY started_at DESC LIMIT 5", text + "%"
    )
    if not rows:
        raise NotFound(f"no investigation id starts with {text!r} (see `compass history`)")
    if len(rows) > 1:
        ids = ", ".join(str(r["id"])[:13] for r in rows)
        raise InvalidInput(
            f"{text!r} is ambiguous: it starts {ids}{'…' if len(rows) == 5 else ''}; give more of it"
        )
    return UUID(str(rows[0]["id"]))


def check_fault(fault: str) -> str:
    ids = load_faults().ids
    if fault in ids:
        return fault
    matches = [f for f in ids if f.startswith(fault)]
    if len(matches) == 1:
        return matches[0]
    hint = f"it could be {', '.join(matches)}" if matches else f"valid: {', '.join(ids)}"
    raise InvalidInput(f"unknown fault id {fault!r} ({hint}; see `compass faults`)")


async def incident_components(store: KnowledgeStore, investigation_id: UUID) -> list[str]:
    """Every component the investigation considered: what its verdict names (causes, eliminated, the
    anomaly fingerprint), what its signature saw, the reported service. Empty without a verdict (nothing
    to check against: an investigation that never finished, or one recorded elsewhere)."""
    verdict = await store.investigations.verdict(investigation_id)
    if verdict is None:
        return []
    names: dict[str, None] = {}
    if verdict.incident.service:
        names[verdict.incident.service] = None
    for rc in verdict.root_causes:
        names.setdefault(rc.component)
    for el in verdict.eliminated:
        names.setdefault(el.component)
    for step in verdict.anomalies:
        names.setdefault(step.component)
    seen = await store.pool.fetchval(
        "SELECT components FROM incident_signatures WHERE investigation_id = $1", investigation_id
    )
    for c in seen or ():
        names.setdefault(str(c))
    return sorted(names)


async def check_cause(store: KnowledgeStore, investigation_id: UUID, cause: Cause) -> Cause:
    fault = check_fault(cause.fault)
    components = await incident_components(store, investigation_id)
    if components and cause.component not in components:
        raise InvalidInput(
            f"component {cause.component!r} is not in this incident (its components: {', '.join(components)})"
        )
    return Cause(component=cause.component, fault=fault)


async def has_resolution(store: KnowledgeStore, investigation_id: UUID) -> bool:
    found = await store.pool.fetchval(
        "SELECT 1 FROM resolutions WHERE investigation_id = $1", investigation_id
    )
    return found is not None
