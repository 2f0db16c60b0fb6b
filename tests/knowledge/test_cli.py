"""`compass migrate | feedback | history`: outputs, exit codes, one-line errors (never a traceback)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from compass_cli.knowledge import add_knowledge_commands
from compass_worker.domain import Eliminated, Incident, RootCause, Verdict
from compass_worker.knowledge import KnowledgeSettings, KnowledgeStore, Ownership, Trigger
from compass_worker.knowledge.settings import DEFAULT_MIGRATIONS_DIR

REPO = Path(__file__).resolve().parents[2]
# A stand-in for the root CLI (compass_cli/main.py), run as a real process.
SCRIPT = (
    "import argparse, sys\n"
    "from compass_cli.knowledge import add_knowledge_commands\n"
    "p = argparse.ArgumentParser(prog='compass')\n"
    "add_knowledge_commands(p.add_subparsers(required=True))\n"
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))\n"
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str], **settings: object) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="compass")
    add_knowledge_commands(
        parser.add_subparsers(required=True),
        settings=lambda: KnowledgeSettings.model_validate({"embedder": "hashing", **settings}),
    )
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
async def investigation(store: KnowledgeStore) -> uuid.UUID:
    incident = Incident(symptom="checkout p99 latency is spiking", service="checkout", at=1.8e9)
    started = await store.investigations.start(
        idempotency_key="cli", incident=incident, trigger=Trigger.CLI, ownership=Ownership.personal(_me())
    )
    await store.investigations.record_verdict(
        started.record.id,
        Verdict(
            verdict="root_cause",
            incident=incident,
            root_causes=(
                RootCause(
                    component="payments-api",
                    fault="db_connection_pool_exhaustion",
                    confidence=0.7,
                    summary="pool full",
                ),
            ),
            # feedback may only name components the investigation considered (issue 16)
            eliminated=(Eliminated(component="payments-db", fault="db_slow_queries", reason="db healthy"),),
        ),
    )
    return started.record.id


def _me() -> str:
    import getpass

    return getpass.getuser()


def test_migrate_then_migrate_again(empty_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["migrate"], capsys, DATABASE_URL=empty_db_url)
    latest = len(list(DEFAULT_MIGRATIONS_DIR.glob("*.sql")))
    assert code == 0 and "applied 0001_init.sql" in out and f"version {latest}" in out
    code, out, _ = run(["migrate"], capsys, DATABASE_URL=empty_db_url)
    assert code == 0 and "applied" not in out


def test_migrate_refuses_an_edited_file(
    empty_db_url: str, migrations_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["migrate"], capsys, DATABASE_URL=empty_db_url, migrations_dir=migrations_copy)[0] == 0
    (migrations_copy / "0001_init.sql").write_text("-- edited\n")
    code, _, err = run(["migrate"], capsys, DATABASE_URL=empty_db_url, migrations_dir=migrations_copy)
    assert code == 2 and "0001_init.sql was edited" in one_line(err)


def test_feedback_correct_actual_and_history(
    db_url: str, investigation: uuid.UUID, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["feedback", str(investigation), "--correct"], capsys, DATABASE_URL=db_url)
    assert (
        code == 0
        and "payments-api db_connection_pool_exhaustion confirmed" in out
        and "What resolved it" in out
    )
    code, out, _ = run(
        [
            "feedback",
            str(investigation),
            "--actual",
            "payments-db:db_slow_queries",
            "--resolution",
            "killed query",
        ],
        capsys,
        DATABASE_URL=db_url,
    )
    assert code == 0 and "payments-db db_slow_queries (not payments-api db_connection_pool_exhaustion)" in out
    code, out, _ = run(["history", "--json"], capsys, DATABASE_URL=db_url)
    [entry] = json.loads(out)
    assert entry["investigation_id"] == str(investigation)
    assert entry["confirmed"] == {"component": "payments-db", "fault": "db_slow_queries"}
    code, out, _ = run(
        ["history", "--similar-to", "checkout p99 latency spiking"], capsys, DATABASE_URL=db_url
    )
    assert code == 0 and str(investigation) in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["feedback", "not-a-uuid", "--correct"], "not an investigation id"),
        (["feedback", str(uuid.UUID(int=7)), "--correct"], "no investigation"),
        (["feedback", "ID", "--actual", "payments-db"], "--actual must be COMPONENT:FAULT"),
        (["feedback", "ID", "--actual", "payments-db:Not A Fault"], "--actual must be COMPONENT:FAULT"),
        (["feedback", "ID", "--correct", "--resolution", " "], "--resolution is empty"),
        (["history", "--limit", "0"], "--limit must be at least 1"),
        (["history", "--similar-to", ""], "--similar-to is empty"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    db_url: str, investigation: uuid.UUID, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [str(investigation) if a == "ID" else a for a in argv]
    code, _, err = run(argv, capsys, DATABASE_URL=db_url)
    assert code == 2 and message in one_line(err)


def test_feedback_on_an_unmigrated_database_says_to_migrate(
    empty_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["feedback", str(uuid.uuid4()), "--correct"], capsys, DATABASE_URL=empty_db_url)
    assert code == 2 and "run `compass migrate`" in one_line(err)


def test_unreachable_database_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://compass:secret-pw@127.0.0.1:1/compass"
    for argv in (["migrate"], ["history"], ["feedback", str(uuid.uuid4()), "--correct"]):
        code, _, err = run(argv, capsys, DATABASE_URL=url, connect_timeout_s=2)
        line = one_line(err)
        assert code == 3 and "cannot connect to postgresql://127.0.0.1:1/compass" in line
        assert "secret-pw" not in line


def test_bad_setting_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["history"], capsys, embedder="word2vec")
    assert code == 2 and "invalid setting embedder" in one_line(err)


def test_real_process_reads_database_url_and_prints_no_traceback() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/db",
        "COMPASS_CONNECT_TIMEOUT_S": "2",
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "history"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert done.stderr.startswith("compass: error: cannot connect to postgresql://127.0.0.1:1/db")
    assert len(done.stderr.strip().splitlines()) == 1


def test_without_database_url_a_laptop_gets_an_embedded_server(tmp_path: Path) -> None:
    """No DATABASE_URL: the CLI starts PostgreSQL + pgvector under XDG_DATA_HOME, migrates it, stops it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "XDG_RUNTIME_DIR")}
    env.update(XDG_DATA_HOME=str(tmp_path), PYTHONPATH=str(REPO), COMPASS_EMBEDDER="hashing")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "history", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "[]", "")
    assert (tmp_path / "compass" / "pg" / "PG_VERSION").is_file()
    assert not (tmp_path / "compass" / "pg" / "postmaster.pid").exists()  # stopped with the last handle
