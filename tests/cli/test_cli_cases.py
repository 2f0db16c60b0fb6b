"""Issue 16, case by case, through the real `compass` command (a subprocess each): the exit code and the one
error line, and for output that succeeds, what a person reads (width, full links, order, wording)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clirun import clean_env, compass, into_closed_pipe, one_error_line

from compass_cli.main import build_parser

FUTURE = (datetime.now(UTC) + timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
NOWHERE = "/nonexistent/mcp.json"  # never reached: every case below is refused before that

# (case, argv, extra env, stdin, exit code, text the one error line contains)
ERRORS: list[tuple[str, list[str], dict[str, str], str | None, int, str]] = [
    (
        "at overflow",
        ["investigate", "x", "--at", "99999999999999"],
        {},
        None,
        2,
        "--at '99999999999999' is out of range",
    ),
    ("at in the future", ["investigate", "x", "--at", FUTURE], {}, None, 2, "is in the future"),
    ("at before 2000", ["investigate", "x", "--at", "0"], {}, None, 2, "out of range"),
    ("at garbage", ["investigate", "x", "--at", "yesterday-ish"], {}, None, 2, "invalid time"),
    ("window 0", ["investigate", "x", "--window", "0"], {}, None, 2, "give a unit"),
    ("window 0m", ["investigate", "x", "--window", "0m"], {}, None, 2, "must be positive"),
    ("window 30s", ["investigate", "x", "--window", "30s"], {}, None, 2, "out of range: use 1m to 7d"),
    ("window 400d", ["investigate", "x", "--window", "400d"], {}, None, 2, "out of range: use 1m to 7d"),
    ("window -5m", ["investigate", "x", "--window", "-5m"], {}, None, 2, "it must be positive"),
    ("window words", ["investigate", "x", "--window", "ten minutes"], {}, None, 2, "invalid --window"),
    ("symptom 100 KB", ["investigate", "a" * 100_000], {}, None, 2, "the limit is 4,096"),
    ("symptom 100 KB on stdin", ["investigate", "-"], {}, "b" * 100_000, 2, "the limit is 4,096"),
    ("symptom empty on stdin", ["investigate", "-"], {}, "  \n", 2, "the symptom is empty"),
    ("symptom missing", ["investigate"], {}, None, 2, "the symptom is missing"),
    ("alert not JSON", ["investigate", "--alert", "-"], {}, '{"alerts": [', 2, "stdin is not JSON"),
    ("alert without alerts", ["investigate", "--alert", "-"], {}, '{"alerts": []}', 2, "not an Alertmanager"),
    (
        "alert file missing",
        ["investigate", "--alert", "/nonexistent/a.json"],
        {},
        None,
        2,
        "cannot read --alert",
    ),
    ("alert and symptom", ["investigate", "x", "--alert", "-"], {}, "{}", 2, "not both"),
    ("json and -o markdown", ["investigate", "x", "--json", "-o", "markdown"], {}, None, 2, "disagree"),
    ("bad -o", ["investigate", "x", "-o", "yaml"], {}, None, 2, "invalid choice: 'yaml'"),
    ("unknown option", ["investigate", "x", "--bogus"], {}, None, 2, "unrecognized arguments: --bogus"),
    ("unknown command", ["frobnicate"], {}, None, 2, "invalid choice: 'frobnicate'"),
    (
        "mcp config missing",
        ["investigate", "x", "--mcp-config", NOWHERE, "--no-memory"],
        {},
        None,
        2,
        NOWHERE,
    ),
    ("cost since garbage", ["cost", "--since", "7x"], {}, None, 2, "invalid --since"),
    (
        "lab bench concurrency",
        ["lab", "bench", "--concurrency", "0"],
        {},
        None,
        2,
        "concurrency out of range",
    ),
    ("demo unknown scenario", ["demo", "--scenario", "nope"], {}, None, 2, "unknown scenario 'nope'"),
]
# The worker with Redis down does not exit: it says so in one line and rides the outage out
# (tests/reliability/ covers that line and the recovery).
# COMPASS_LLM is validated the same way, in the same words, by every command that has settings.
BOGUS_LLM = "invalid setting COMPASS_LLM='bogus': use none, or <provider>:<model>"
for argv in (
    ["investigate", "x"],
    ["demo"],
    ["cost"],
    ["history"],
    ["lab", "bench"],
    ["worker"],
    ["migrate"],
):
    ERRORS.append((f"COMPASS_LLM=bogus {argv[0]}", argv, {"COMPASS_LLM": "bogus"}, None, 2, BOGUS_LLM))
ERRORS.append(
    ("COMPASS_LLM_DECIDE bad", ["cost"], {"COMPASS_LLM_DECIDE": "gpt4"}, None, 2, "COMPASS_LLM_DECIDE")
)


@pytest.mark.parametrize(
    ("argv", "env", "stdin", "code", "needle"),
    [pytest.param(*case[1:], id=case[0]) for case in ERRORS],
)
def test_bad_input_is_one_line_and_its_exit_code(
    tmp_path: Path, argv: list[str], env: dict[str, str], stdin: str | None, code: int, needle: str
) -> None:
    proc = compass(*argv, env=clean_env(tmp_path, **env), stdin=stdin)
    assert proc.returncode == code, proc.stderr
    assert needle in one_error_line(proc)
    assert proc.stdout == ""


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    for argv in (["faults"], ["lab", "list"], ["completion", "bash"]):
        code, err = into_closed_pipe(*argv, env=clean_env(tmp_path))
        assert (code, err) == (141, ""), err


def test_version_faults_and_completion(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    version = compass("--version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("compass 0.")
    faults = compass("faults", "--json", env=env)
    from compass_worker.engine.faultcatalog import load_faults

    listed = json.loads(faults.stdout)
    assert [f["id"] for f in listed] == list(load_faults().ids)  # every id the engine knows, and only those
    assert all(f["meaning"] for f in listed)
    for shell in ("bash", "zsh"):
        script = compass("completion", shell, env=env)
        assert script.returncode == 0 and "investigate" in script.stdout and "--window" in script.stdout


def test_every_subcommand_help_has_a_description() -> None:
    def walk(parser: object, path: str) -> list[str]:
        import argparse

        assert isinstance(parser, argparse.ArgumentParser)
        missing = [] if parser.description else [path]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    missing += walk(child, f"{path} {name}")
        return missing

    assert walk(build_parser(), "compass") == []


def test_a_subcommand_help_starts_with_what_it_does(tmp_path: Path) -> None:
    proc = compass("cost", "--help", env=clean_env(tmp_path))
    assert proc.returncode == 0
    assert "LLM spend and tokens" in proc.stdout.split("options:")[0]


def test_config_file_is_read_and_the_environment_overrides_it(tmp_path: Path) -> None:
    config = tmp_path / ".config" / "compass" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('llm = "bogus"\nmcp_config = "/nonexistent/from-file.json"\n')
    from_file = compass("investigate", "x", "--no-memory", env=clean_env(tmp_path))
    assert from_file.returncode == 2 and BOGUS_LLM in one_error_line(from_file)
    env_wins = compass("investigate", "x", "--no-memory", env=clean_env(tmp_path, COMPASS_LLM="none"))
    assert env_wins.returncode == 2 and "/nonexistent/from-file.json" in one_error_line(env_wins)
    flag_wins = compass(
        "investigate", "x", "--no-memory", "--mcp-config", "/nonexistent/flag.json",
        env=clean_env(tmp_path, COMPASS_LLM="none"),
    )  # fmt: skip
    assert flag_wins.returncode == 2 and "/nonexistent/flag.json" in one_error_line(flag_wins)
    config.write_text("llm = [unclosed\n")
    broken = compass("history", env=clean_env(tmp_path))
    assert broken.returncode == 2 and "is not valid TOML" in one_error_line(broken)
    assert str(config) in one_error_line(broken)


@pytest.mark.timeout(600)
def test_cost_since_a_bare_number_means_days_and_says_so(tmp_path: Path, db_url: str) -> None:
    env = clean_env(tmp_path, DATABASE_URL=db_url)
    days = compass("cost", "--since", "7", "--json", env=env)
    assert days.returncode == 0, days.stderr
    assert days.stderr.strip() == "compass: --since 7 read as 7 days (units: m, h, d)"
    [window] = json.loads(days.stdout)["windows"]
    unit = compass("cost", "--since", "7d", "--json", env=env)
    [same] = json.loads(unit.stdout)["windows"]
    assert unit.stderr == "" and window["label"] == same["label"] == "7d"
    since = datetime.fromisoformat(window["since"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - since) - timedelta(days=7)) < timedelta(minutes=10)


@pytest.mark.parametrize(
    ("verdict", "causes", "said"),
    [
        (
            "inconclusive",
            [("payments-db", "db_slow_queries", 0.43)],
            "inconclusive; the right cause was ranked 1st of 1 at 43 %",
        ),
        ("root_cause", [("payments-db", "db_slow_queries", 0.995)], "COMPASS was right (99 % confidence)"),
        (
            "root_cause",
            [("cart", "bad_deploy", 0.2), ("payments-db", "db_slow_queries", 0.7)],
            "COMPASS was right (70 %",
        ),
        (
            "root_cause",
            [("cart", "bad_deploy", 0.8), ("payments-db", "db_slow_queries", 0.1)],
            "wrong: the right cause was ranked 2nd of 2 at 10 %",
        ),
        ("inconclusive", [], "wrong: the right cause is not among the inconclusive verdict's candidates"),
    ],
)
def test_the_demo_says_what_happened(verdict: str, causes: list[tuple[str, str, float]], said: str) -> None:
    from compass_cli.demo import outcome_line
    from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario
    from compass_worker.domain.models import Incident, RootCause, Verdict

    scenario = get_scenario(DEFAULT_SCENARIO_ID)  # truth: payments-db · db_slow_queries
    v = Verdict.model_validate(
        {
            "verdict": verdict,
            "incident": Incident(symptom="s", at=scenario.at),
            "root_causes": [RootCause(component=c, fault=f, confidence=p, summary="-") for c, f, p in causes],
        }
    )
    line = outcome_line(scenario, v)
    assert line.startswith("lab ground truth: payments-db · db_slow_queries — ") and said in line
