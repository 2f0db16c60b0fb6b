"""A team's runbooks and fault patterns (TOML): patterns are proposed to the engine like an LLM's
hypotheses and checks; runbooks are linked from the verdict when a root cause matches."""

from compass_worker.runbooks.catalog import Pattern, Runbook, TeamCatalog, load_team_catalog
from compass_worker.runbooks.reasoner import CompositeReasoner, TeamCatalogReasoner

__all__ = [
    "CompositeReasoner",
    "Pattern",
    "Runbook",
    "TeamCatalog",
    "TeamCatalogReasoner",
    "load_team_catalog",
]
