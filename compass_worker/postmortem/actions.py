"""Action items for a post-mortem: conventional follow-ups per fault (actions.toml), plus one per
observability gap the investigation reported (telemetry that was missing is itself an action)."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources


@functools.cache
def _catalog() -> dict[str, tuple[str, ...]]:
    text = resources.files("compass_worker.postmortem").joinpath("actions.toml").read_text("utf-8")
    return {fault: tuple(entry["actions"]) for fault, entry in tomllib.loads(text).items()}


def action_items(fault: str | None, component: str | None, gaps: tuple[str, ...]) -> tuple[str, ...]:
    catalog = _catalog()
    who = component or "the affected component"
    items = [a.format(component=who) for a in catalog.get(fault or "", ())]
    if fault is None:
        items.append("Find the cause: no hypothesis survived the checks (see what was eliminated).")
    items += [a.format(component=who) for a in catalog["default"]]
    items += [f"Close the observability gap: {g}" for g in gaps]
    return tuple(items)
