"""Memory for `compass investigate`: recall similar past incidents, record this one for `compass feedback`.

    async with open_cli_memory() as memory:
        if memory.notice:
            print(memory.notice)                     # "memory off (…); investigating without it"
        result = await investigate(incident, config, settings, sink, memory=memory.priors)
        investigation_id = await memory.record(incident, result.verdict)
        for line in memory.citations: ...            # "seen 2× before: …, confirmed by @alice on …"

The CLI's knowledge is personal to the local user (plus org knowledge, which every viewer sees). Memory
is an aid, never a dependency: when the store cannot be opened (no embedded server, a bad DATABASE_URL,
a schema to migrate) the investigation runs without it and `notice` says so in one line; a failed
recording is a notice too, never an error.
"""

from __future__ import annotations

import getpass
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from compass_worker.domain import Hypothesis, Incident, Verdict
from compass_worker.domain.models import AnomalyStep
from compass_worker.engine.investigation import PriorAdjustment, PriorSource
from compass_worker.knowledge.records import InvestigationStatus, Trigger
from compass_worker.knowledge.scope import Ownership, Viewer
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.knowledge.signature import IncidentSignature
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.service.memory import memory_priors

log = logging.getLogger(__name__)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class CliMemory:
    """One investigation's view of the store (or of no store: `priors` is then None).

    `recall=False` records without consulting memory (the learning benchmark's "before" runs).
    """

    def __init__(
        self, store: KnowledgeStore | None, user: str, *, recall: bool = True, notice: str | None = None
    ) -> None:
        self._store = store
        self.user = user
        self.recall = recall
        self.notice = notice
        self.components: frozenset[str] = frozenset()  # what the engine saw; part of the signature
        self.adjustments: list[PriorAdjustment] = []  # what memory told the engine (score units)
        self.fingerprint: tuple[AnomalyStep, ...] = ()  # which signals moved where, in what order
        self.investigation_id: UUID | None = None  # set by begin(): LLM calls are ledgered against it

    @property
    def store(self) -> KnowledgeStore | None:
        """The open store (the CLI's cost ledger lives there too), or None without one."""
        return self._store

    @property
    def enabled(self) -> bool:
        return self._store is not None

    @property
    def priors(self) -> PriorSource | None:
        return self._priors if self._store is not None else None

    async def _priors(
        self, incident: Incident, components: frozenset[str], fingerprint: tuple[AnomalyStep, ...] = ()
    ) -> list[PriorAdjustment]:
        assert self._store is not None  # only handed out with a store
        self.components = components
        self.fingerprint = fingerprint
        if not self.recall:
            return []
        recall = memory_priors(self._store, Viewer(user=self.user))
        self.adjustments = await recall(incident, components, fingerprint)
        return self.adjustments

    @property
    def citations(self) -> list[str]:
        """What memory said about this incident, for the terminal ("seen 2× before: …")."""
        return [a.citation for a in self.adjustments]

    def signature(self, incident: Incident) -> IncidentSignature:
        """The signature this incident is stored under — the same one memory is queried with."""
        return IncidentSignature.from_incident(incident, tuple(sorted(self.components)), self.fingerprint)

    async def begin(self, incident: Incident) -> UUID | None:
        """Create the investigation's record before it runs (its id then names the LLM calls it makes).

        None when there is no store or the write failed (then `notice` says why).
        """
        store = self._store
        if store is None:
            return None
        try:
            started = await store.investigations.start(
                idempotency_key=f"cli:{uuid.uuid4()}",
                incident=incident,
                trigger=Trigger.CLI,
                ownership=Ownership.personal(self.user),
                requested_by=self.user,
            )
        except Exception as exc:  # recording is an aid, never a reason to fail the investigation
            log.warning("could not record the investigation: %s", exc)
            self.notice = f"investigation not recorded ({_one_line(exc)})"
            return None
        self.investigation_id = started.record.id
        return self.investigation_id

    async def abandon(self, cancelled: bool = False) -> None:
        """The investigation begun ended without a verdict (no telemetry reachable, Ctrl-C): say so."""
        if self._store is None or self.investigation_id is None:
            return
        status = InvestigationStatus.CANCELLED if cancelled else InvestigationStatus.FAILED
        try:
            await self._store.investigations.finish(self.investigation_id, status)
        except Exception as exc:  # bookkeeping on the way out must not mask the real error
            log.warning("could not mark the investigation %s: %s", status.value, exc)

    async def record(self, incident: Incident, verdict: Verdict) -> UUID | None:
        """Store the investigation (verdict, root-cause evidence, signature); its id for `compass feedback`.

        None when there is no store or the write failed (then `notice` says why).
        """
        store = self._store
        if store is None:
            return None
        investigation_id = self.investigation_id or await self.begin(incident)
        if investigation_id is None:
            return None
        try:
            for cause in verdict.root_causes:
                key = Hypothesis.key(cause.component, cause.fault)
                for evidence in cause.evidence:
                    await store.investigations.add_evidence(investigation_id, evidence, key)
            await store.investigations.record_verdict(investigation_id, verdict)
            await store.memory.record_signature(investigation_id, self.signature(incident))
        except Exception as exc:  # recording is an aid: the verdict is already on the screen
            log.warning("could not record the investigation: %s", exc)
            self.notice = f"investigation not recorded ({_one_line(exc)})"
            return None
        return investigation_id


@asynccontextmanager
async def open_cli_memory(
    settings: KnowledgeSettings | None = None, *, user: str | None = None, recall: bool = True
) -> AsyncIterator[CliMemory]:
    """The local user's memory for one CLI investigation; a no-op memory with a `notice` if unavailable."""
    who = user or getpass.getuser()
    opened = KnowledgeStore.open(settings) if settings is not None else None
    try:
        if opened is None:
            opened = KnowledgeStore.open(KnowledgeSettings())  # reads the environment: may be invalid
        store = await opened.__aenter__()
    except Exception as exc:  # any failure to open means "no memory this time", never a failed run
        yield CliMemory(
            None, who, recall=recall, notice=f"memory off ({_one_line(exc)}); investigating without it"
        )
        return
    try:
        yield CliMemory(store, who, recall=recall)
    finally:
        try:
            await opened.__aexit__(None, None, None)
        except Exception as exc:  # closing the pool or the embedded server must not mask the result
            log.warning("closing the knowledge store failed: %s", exc)
