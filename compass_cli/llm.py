"""The LLM for CLI investigations: the worker's reasoner factory, the worker's settings, the shared ledger.

`compass investigate`, `compass demo` and `compass lab bench` all come through here, so that COMPASS_LLM
and the per-phase settings mean the same thing in a terminal as in Slack: redaction, budgets, the
"AI unavailable" fallback and the cost accounting are the reasoner's own (compass_worker.reasoners).
"""

from __future__ import annotations

from uuid import UUID

from compass_worker.cost.ledger import CostLedger, MemoryLedger, StoreLedger
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.reasoners.factory import build_reasoner
from compass_worker.reasoners.llm_reasoner import LlmReasoner
from compass_worker.reasoners.settings import LlmSettings, load_llm_settings
from compass_worker.settings import Settings, load_settings


def load_cli_settings() -> tuple[Settings, LlmSettings]:
    """Both settings groups, validated the same way for every command (ConfigError: one line, exit 2)."""
    return load_settings(), load_llm_settings()


def cli_ledger(store: KnowledgeStore | None) -> CostLedger:
    """The knowledge store's ledger (what `compass cost` reads), or an in-process one without a store."""
    return StoreLedger(store) if store is not None else MemoryLedger()


def cli_reasoner(
    llm: LlmSettings, ledger: CostLedger, investigation_id: UUID | None = None
) -> LlmReasoner | None:
    """A reasoner for one investigation (close it), or None when COMPASS_LLM is none."""
    return build_reasoner(llm, ledger, investigation_id=investigation_id)
