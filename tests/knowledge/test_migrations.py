from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from compass_worker.knowledge import MigrationError, SchemaMismatch, check_schema, migrate
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

SHIPPED = tuple(sorted(p.name for p in DEFAULT_MIGRATIONS_DIR.glob("*.sql")))
# Numbers may have gaps (branches add migrations in parallel): the latest is the highest number shipped.
LATEST = max(int(name[:4]) for name in SHIPPED)
NEXT = f"{LATEST + 1:04d}"
AFTER_NEXT = f"{LATEST + 2:04d}"

EXPECTED_TABLES = {
    "schema_migrations",
    "teams",
    "slack_channel_teams",
    "incidents",
    "investigations",
    "hypotheses",
    "checks",
    "evidence",
    "verdicts",
    "corrections",
    "resolutions",
    "incident_signatures",
    "learned_patterns",
    "llm_calls",
    "slack_threads",
    "tool_calls",
}


async def test_fresh_database_gets_every_table_pgvector_and_an_hnsw_index(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        report = await migrate(conn, DEFAULT_MIGRATIONS_DIR)
        assert report.applied == SHIPPED
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
        assert tables >= EXPECTED_TABLES
        assert await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        index = await conn.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'incident_signatures_embedding_idx'"
        )
        assert "hnsw" in index and "vector_cosine_ops" in index
        assert await check_schema(conn, DEFAULT_MIGRATIONS_DIR) == LATEST
    finally:
        await conn.close()


async def test_rerun_is_idempotent(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await migrate(conn, DEFAULT_MIGRATIONS_DIR)
        again = await migrate(conn, DEFAULT_MIGRATIONS_DIR)
        assert again.applied == ()
        assert again.version == LATEST
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(SHIPPED)
    finally:
        await conn.close()


async def test_a_new_migration_is_applied_after_the_old_ones(
    empty_db_url: str, migrations_copy: Path
) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await migrate(conn, migrations_copy)
        (migrations_copy / f"{NEXT}_add_note.sql").write_text("ALTER TABLE incidents ADD COLUMN note text;\n")
        with pytest.raises(SchemaMismatch, match=rf"{NEXT}_add_note\.sql not applied"):
            await check_schema(conn, migrations_copy)
        report = await migrate(conn, migrations_copy)
        assert report.applied == (f"{NEXT}_add_note.sql",)
        assert await check_schema(conn, migrations_copy) == LATEST + 1
    finally:
        await conn.close()


async def test_edited_migration_is_refused(empty_db_url: str, migrations_copy: Path) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await migrate(conn, migrations_copy)
        path = migrations_copy / "0001_init.sql"
        path.write_text(path.read_text() + "\n-- a harmless-looking edit\n")
        with pytest.raises(MigrationError, match=r"0001_init\.sql was edited after it was applied"):
            await migrate(conn, migrations_copy)
        with pytest.raises(MigrationError, match="edited"):
            await check_schema(conn, migrations_copy)
    finally:
        await conn.close()


async def test_missing_applied_migration_is_refused(empty_db_url: str, migrations_copy: Path) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        (migrations_copy / f"{NEXT}_extra.sql").write_text("CREATE TABLE extra (id int);\n")
        await migrate(conn, migrations_copy)
        (migrations_copy / f"{NEXT}_extra.sql").unlink()
        with pytest.raises(
            MigrationError, match=rf"{NEXT}_extra\.sql is applied in the database but missing"
        ):
            await migrate(conn, migrations_copy)
    finally:
        await conn.close()


async def test_out_of_order_migration_is_refused_and_nothing_changes(
    empty_db_url: str, migrations_copy: Path
) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        (migrations_copy / f"{AFTER_NEXT}_later.sql").write_text("CREATE TABLE later (id int);\n")
        await migrate(conn, migrations_copy)
        (migrations_copy / f"{NEXT}_branch.sql").write_text("CREATE TABLE branch (id int);\n")
        with pytest.raises(
            MigrationError, match=rf"{NEXT}_branch\.sql is new but migration {AFTER_NEXT} is already applied"
        ):
            await migrate(conn, migrations_copy)
        assert await conn.fetchval("SELECT to_regclass('branch')") is None
    finally:
        await conn.close()


async def test_failing_migration_rolls_back_whole(empty_db_url: str, migrations_copy: Path) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        (migrations_copy / f"{NEXT}_broken.sql").write_text("CREATE TABLE half (id int);\nSELEC oops;\n")
        with pytest.raises(MigrationError, match=rf"{NEXT}_broken\.sql failed and was rolled back"):
            await migrate(conn, migrations_copy)
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == LATEST
    finally:
        await conn.close()


async def test_badly_named_file_is_refused(empty_db_url: str, migrations_copy: Path) -> None:
    (migrations_copy / "2_oops.sql").write_text("SELECT 1;\n")
    conn = await asyncpg.connect(empty_db_url)
    try:
        with pytest.raises(MigrationError, match=r"must be named NNNN_name\.sql"):
            await migrate(conn, migrations_copy)
    finally:
        await conn.close()


async def test_unmigrated_database_fails_the_startup_check(empty_db_url: str) -> None:
    conn = await asyncpg.connect(empty_db_url)
    try:
        with pytest.raises(SchemaMismatch, match="run `compass migrate`"):
            await check_schema(conn, DEFAULT_MIGRATIONS_DIR)
    finally:
        await conn.close()


async def test_concurrent_migrations_apply_once(empty_db_url: str) -> None:
    a, b = await asyncpg.connect(empty_db_url), await asyncpg.connect(empty_db_url)
    try:
        first, second = await asyncio.gather(
            migrate(a, DEFAULT_MIGRATIONS_DIR), migrate(b, DEFAULT_MIGRATIONS_DIR)
        )
        assert sorted([first.applied, second.applied]) == [(), SHIPPED]
        assert await a.fetchval("SELECT count(*) FROM schema_migrations") == len(SHIPPED)
    finally:
        await a.close()
        await b.close()
