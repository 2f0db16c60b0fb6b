"""KnowledgeStore: the one object the engine, the bot and the CLI hold. An asyncpg pool inside; typed parts:

store.investigations  create / resume an investigation, append hypotheses, checks, evidence, verdict
store.feedback        confirmations, corrections, resolutions (who, when, what)
store.memory          signatures, similar_incidents(), cause_priors()
store.patterns        explicit, redacted promotion of knowledge to a wider scope
store.audit           the tool-call audit log
store.costs           the LLM cost ledger
store.slack           channel → team, thread ↔ investigation
store.dashboard       read-only queries for the web dashboard (lists, filters, cost by day, known causes)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from compass_worker.knowledge.audit import AuditLog
from compass_worker.knowledge.cost import CostLedger
from compass_worker.knowledge.dashboard import DashboardQueries
from compass_worker.knowledge.database import Pool, connect, create_pool, open_target
from compass_worker.knowledge.embedders.protocol import Embedder
from compass_worker.knowledge.embedders.select import build_embedder
from compass_worker.knowledge.feedback import FeedbackLog
from compass_worker.knowledge.investigations import InvestigationLog
from compass_worker.knowledge.memory import Memory
from compass_worker.knowledge.migrations import check_schema, migrate
from compass_worker.knowledge.patterns import PatternBook
from compass_worker.knowledge.priors import PriorPolicy
from compass_worker.knowledge.redact import Redactor
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.knowledge.slack import SlackLinks


class KnowledgeStore:
    def __init__(
        self,
        pool: Pool,
        embedder: Embedder,
        *,
        redactor: Redactor | None = None,
        policy: PriorPolicy | None = None,
    ) -> None:
        self.pool = pool
        self.investigations = InvestigationLog(pool)
        self.memory = Memory(pool, embedder, policy)
        self.feedback = FeedbackLog(pool, self.investigations, self.memory)
        self.patterns = PatternBook(pool, embedder, redactor or Redactor())
        self.audit = AuditLog(pool)
        self.costs = CostLedger(pool)
        self.slack = SlackLinks(pool)
        self.dashboard = DashboardQueries(pool)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: KnowledgeSettings,
        embedder: Embedder | None = None,
        *,
        policy: PriorPolicy | None = None,
    ) -> AsyncIterator[KnowledgeStore]:
        """Connect (starting the embedded server without DATABASE_URL), verify the schema, yield the store.

        Migrates first when `settings.auto_migrate` says so (by default: only the embedded server).
        Raises DatabaseUnavailable, SchemaMismatch (run `compass migrate`) or MigrationError.
        """
        async with open_target(settings) as target:
            conn = await connect(target.url, timeout_s=settings.connect_timeout_s)
            try:
                auto = settings.auto_migrate
                if auto if auto is not None else target.embedded is not None:
                    await migrate(conn, settings.migrations_dir)
                await check_schema(conn, settings.migrations_dir)
            finally:
                await conn.close()
            pool = await create_pool(target.url, timeout_s=settings.connect_timeout_s)
            try:
                yield cls(pool, embedder or build_embedder(settings), policy=policy)
            finally:
                await pool.close()
