"""Plain numbered SQL migrations (migrations/NNNN_name.sql), applied in order, each in a transaction.

Every applied file is recorded in `schema_migrations` with its sha256. Before changing anything,
`migrate` refuses — with one line naming the file — a database whose history disagrees with the folder:
an applied file that was edited or deleted, or a new file numbered below one already applied (out of
order). A PostgreSQL advisory lock serialises concurrent `compass migrate`
runs (bot and worker starting together); the second waits, then finds nothing to do. Numbers may have
gaps (two branches each adding a migration); what is refused is applying one below the latest applied.
Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY) do not belong here.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
from pydantic import BaseModel, ConfigDict

from compass_worker.knowledge.database import Connection
from compass_worker.knowledge.errors import MigrationError, SchemaMismatch

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# pg_advisory_lock key: the bytes of "compass" — any constant shared by every COMPASS process.
_LOCK_KEY = int.from_bytes(b"compass", "big")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    sql: str
    checksum: str

    @property
    def filename(self) -> str:
        return self.path.name


class AppliedMigration(BaseModel):
    model_config = ConfigDict(frozen=True)
    version: int
    name: str
    checksum: str
    applied_at: datetime


class MigrationReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    applied: tuple[str, ...]  # file names applied by this run, in order
    version: int  # schema version after the run


def discover(directory: Path) -> list[Migration]:
    """The migration files, sorted; refuses stray .sql names and duplicate numbers."""
    if not directory.is_dir():
        raise MigrationError(f"migrations folder not found: {directory}")
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise MigrationError(
                f"{path}: a migration file must be named NNNN_name.sql (e.g. 0002_add_x.sql)"
            )
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"two migrations numbered {version:04d}: {found[version].filename}, {path.name}"
            )
        data = path.read_bytes()
        found[version] = Migration(
            version=version,
            name=match.group(2),
            path=path,
            sql=data.decode("utf-8"),
            checksum=hashlib.sha256(data).hexdigest(),
        )
    return [found[v] for v in sorted(found)]


def plan(files: list[Migration], applied: list[AppliedMigration]) -> list[Migration]:
    """The migrations still to apply, after checking that history and folder agree."""
    by_version = {m.version: m for m in files}
    for row in applied:
        migration = by_version.get(row.version)
        if migration is None:
            raise MigrationError(
                f"migration {row.version:04d}_{row.name}.sql is applied in the database but missing from the "
                f"migrations folder; restore it"
            )
        if migration.checksum != row.checksum:
            raise MigrationError(
                f"{migration.filename} was edited after it was applied (sha256 {row.checksum[:12]}… in the "
                f"database, {migration.checksum[:12]}… on disk); restore it and add a new migration instead"
            )
    done = {row.version for row in applied}
    latest = max(done, default=0)
    pending = [m for m in files if m.version not in done]
    for migration in pending:
        if migration.version < latest:
            raise MigrationError(
                f"{migration.filename} is new but migration {latest:04d} is already applied (out of order); "
                f"renumber it after {latest:04d}"
            )
    return pending


async def applied_migrations(conn: Connection) -> list[AppliedMigration]:
    """What `schema_migrations` records (empty when the table does not exist yet)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return []
    rows = await conn.fetch(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    )
    return [AppliedMigration(**dict(row)) for row in rows]


async def migrate(conn: Connection, directory: Path, *, lock_timeout_s: float = 60.0) -> MigrationReport:
    """Apply every pending migration in order; idempotent; raises MigrationError before changing anything."""
    files = discover(directory)
    await _lock(conn, lock_timeout_s)
    try:
        await conn.execute(_CREATE_TABLE)
        pending = plan(files, await applied_migrations(conn))
        for migration in pending:
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise MigrationError(f"{migration.filename} failed and was rolled back: {first}") from exc
        version = files[-1].version if files else 0
        return MigrationReport(applied=tuple(m.filename for m in pending), version=version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def check_schema(conn: Connection, directory: Path) -> int:
    """At start-up (bot, worker): the schema version, or SchemaMismatch/MigrationError saying what to do."""
    files = discover(directory)
    applied = await applied_migrations(conn)
    if not applied:
        raise SchemaMismatch("the database has no COMPASS schema: run `compass migrate`")
    pending = plan(files, applied)
    if pending:
        names = ", ".join(m.filename for m in pending)
        raise SchemaMismatch(f"the database schema is behind ({names} not applied): run `compass migrate`")
    return applied[-1].version


async def _lock(conn: Connection, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
        if time.monotonic() > deadline:
            raise MigrationError(
                f"another `compass migrate` held the migration lock for over {timeout_s:.0f}s"
            )
        await asyncio.sleep(0.05)
