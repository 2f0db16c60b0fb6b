"""The knowledge store as the dashboard holds it: opened on first use (the bot starts without a database
when nobody looks at the dashboard), closed with the app. Read-only, except the admins' pattern actions."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from compass_worker.errors import CompassError

if TYPE_CHECKING:
    from compass_worker.knowledge import KnowledgeStore
    from compass_worker.knowledge.settings import KnowledgeSettings


class StoreUnavailable(Exception):
    """The store could not be opened (the message says why, in one line)."""


class LazyStore:
    def __init__(
        self, settings: KnowledgeSettings | None = None, store: KnowledgeStore | None = None
    ) -> None:
        self._settings = settings
        self._store = store
        self._stack = AsyncExitStack()
        self._lock = asyncio.Lock()

    async def get(self) -> KnowledgeStore:
        if self._store is not None:
            return self._store
        async with self._lock:
            if self._store is None:
                # Imported here: the bot loads the knowledge store only once somebody opens the dashboard.
                from compass_worker.knowledge import KnowledgeStore
                from compass_worker.knowledge.settings import KnowledgeSettings

                try:
                    settings = self._settings or KnowledgeSettings()
                    self._store = await self._stack.enter_async_context(KnowledgeStore.open(settings))
                except (CompassError, ValueError, OSError) as exc:
                    text = str(exc).strip().splitlines()
                    raise StoreUnavailable(text[0] if text else type(exc).__name__) from None
            return self._store

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._store = None
