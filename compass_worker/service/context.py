"""What every job needs, built once per worker process at start-up and closed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis

from compass_worker.cost.ledger import StoreLedger
from compass_worker.knowledge.embedders.protocol import Embedder
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.reasoners.factory import ReasonerFactory, build_reasoner_factory
from compass_worker.runner import Catalogs
from compass_worker.service.leases import InvestigationJobs
from compass_worker.service.reconciler import Reconciler
from compass_worker.service.settings import WorkerConfig
from compass_worker.service.slack import SlackPoster
from compass_worker.service.thread_notices import ThreadNotices
from compass_worker.telemetry.config import McpConfig, load_mcp_config
from compass_worker.telemetry.shared import SessionPool

CTX_KEY = "compass"


@dataclass
class ServiceContext:
    config: WorkerConfig
    mcp: McpConfig
    catalogs: Catalogs
    store: KnowledgeStore
    slack: SlackPoster
    redis: ArqRedis
    _stack: AsyncExitStack
    sessions: SessionPool  # MCP sessions kept open across this process' investigations
    ledger: StoreLedger | None = None
    reasoners: ReasonerFactory | None = None  # None: no LLM configured (the built-in engine alone)
    # This process' name on the leases it holds (host, pid and a nonce: a restarted pid is another owner).
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    _reconciling: asyncio.Task[None] | None = None
    # Investigations this process runs now: a second job of one (the reconciler re-enqueued it while our
    # pick-up was slow) must not run it again beside the first — the lease alone would let it, as ours.
    running: set[str] = field(default_factory=set)

    @property
    def jobs(self) -> InvestigationJobs:
        return InvestigationJobs(self.store.pool)

    def start_reconciler(self) -> None:
        """Reconcile PostgreSQL with Redis now and every `reconcile_interval_s` (until close)."""
        s = self.config.service
        reconciler = Reconciler(
            self.jobs,
            self.redis,
            ThreadNotices(self.slack, self.redis),
            max_tries=s.max_tries,
            queued_grace_s=s.queued_grace_s,
        )
        self._reconciling = asyncio.create_task(reconciler.run(s.reconcile_interval_s))

    @classmethod
    async def open(
        cls,
        config: WorkerConfig,
        redis: ArqRedis,
        *,
        mcp: McpConfig | None = None,
        embedder: Embedder | None = None,
    ) -> ServiceContext:
        stack = AsyncExitStack()
        try:
            if mcp is None:
                path = config.engine.mcp_config
                assert path is not None  # load_worker_config insists on it
                mcp = load_mcp_config(path, os.environ)
            store = await stack.enter_async_context(KnowledgeStore.open(config.knowledge, embedder))
            slack = SlackPoster.connect(
                config.service.slack_bot_token.get_secret_value(), config.service.slack_api_url
            )
            ledger = StoreLedger(store)
            reasoners = build_reasoner_factory(config.llm, ledger)
            if reasoners is not None:
                stack.push_async_callback(reasoners.aclose)
            engine = config.engine
            sessions = SessionPool(mcp, call_timeout_s=engine.tool_timeout_s, log_dir=engine.mcp_log_dir)
            stack.push_async_callback(sessions.aclose)  # opened by the first investigation, if any
            return cls(
                config,
                mcp,
                Catalogs.load(engine),
                store,
                slack,
                redis,
                stack,
                sessions,
                ledger,
                reasoners,
            )
        except BaseException:
            await stack.aclose()
            raise

    async def close(self) -> None:
        if self._reconciling is not None:
            self._reconciling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconciling
        await self._stack.aclose()


def service(ctx: dict[Any, Any]) -> ServiceContext:
    svc = ctx[CTX_KEY]
    assert isinstance(svc, ServiceContext)
    return svc
