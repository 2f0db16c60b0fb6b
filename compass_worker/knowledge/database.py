"""Where the database is and how to connect to it: DATABASE_URL, or the embedded server.

`open_database(settings)` is the one entry point the CLI, the bot and the worker use: it starts the
embedded server when there is no DATABASE_URL, and always maps connection failures to a one-line
`DatabaseUnavailable` that names the server without its password.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

import asyncpg
from pgvector.asyncpg import register_vector

from compass_worker.knowledge.embedded import EmbeddedPostgres
from compass_worker.knowledge.errors import DatabaseUnavailable, SchemaMismatch
from compass_worker.knowledge.settings import KnowledgeSettings

# asyncpg's classes are generic only to the type checker (asyncpg-stubs), hence the string aliases.
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
# What `pool.acquire()` yields; it forwards to a Connection.
AnyConnection: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)


@dataclass(frozen=True)
class DatabaseTarget:
    url: str
    embedded: EmbeddedPostgres | None

    @property
    def display(self) -> str:
        return describe_url(self.url)


def describe_url(url: str) -> str:
    """The URL without credentials, for messages."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    if not parts.hostname and "host=" in parts.query:  # a unix socket directory, libpq's own notation
        socket_dir = parts.query.split("host=", 1)[1].split("&", 1)[0]
        return f"postgresql://{port}{parts.path}?host={socket_dir}"
    return f"postgresql://{parts.hostname or ''}{port}{parts.path}"


def resolve_target(settings: KnowledgeSettings) -> DatabaseTarget:
    """DATABASE_URL if set; otherwise start (or join) the embedded server under settings.data_dir."""
    if settings.database_url is not None:
        return DatabaseTarget(url=settings.database_url.get_secret_value(), embedded=None)
    embedded = EmbeddedPostgres(settings.data_dir / "pg")
    return DatabaseTarget(url=embedded.start(), embedded=embedded)


async def connect(url: str, *, timeout_s: float = 5.0) -> Connection:
    """One connection (migrations use this: the vector type may not exist yet)."""
    try:
        return await asyncpg.connect(url, timeout=timeout_s)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnavailable(f"cannot connect to {describe_url(url)}: {_one_line(exc)}") from exc


async def _init_connection(conn: Connection) -> None:
    try:
        await register_vector(conn)
    except ValueError as exc:  # "unknown type: public.vector"
        raise SchemaMismatch("the database has no pgvector schema yet: run `compass migrate`") from exc


async def create_pool(url: str, *, timeout_s: float = 5.0, max_size: int = 10) -> Pool:
    """A pool whose connections encode/decode pgvector's `vector` as numpy arrays."""
    try:
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=max_size, timeout=timeout_s, init=_init_connection
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnavailable(f"cannot connect to {describe_url(url)}: {_one_line(exc)}") from exc
    return pool


@asynccontextmanager
async def open_target(settings: KnowledgeSettings) -> AsyncIterator[DatabaseTarget]:
    """Resolve the database for the duration of the block (releasing the embedded server after)."""
    target = await asyncio.to_thread(resolve_target, settings)
    try:
        yield target
    finally:
        if target.embedded is not None:
            await asyncio.to_thread(target.embedded.stop)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
