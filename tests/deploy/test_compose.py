"""docker-compose.yml against the Compose Specification's JSON schema, and what the deployment relies on.

The schema is the one `check-jsonschema` vendors (compose-spec.json, from the compose-spec project via
SchemaStore; Apache-2.0, its licence file ships beside it in that package). Docker itself cannot run here.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from compass_bot.settings import BotSettings
from compass_bot.ui.settings import UiSettings
from compass_worker.alerts.settings import AlertSettings
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.questions.settings import QuestionSettings
from compass_worker.reasoners.settings import LlmSettings
from compass_worker.service.settings import ServiceSettings
from compass_worker.settings import Settings
from compass_worker.telemetry.config import parse_mcp_config

ROOT = Path(__file__).resolve().parents[2]
COMPASS_SERVICES = ("migrate", "bot", "worker", "doctor", "lab", "lab-demo")


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))
    return schema


def schema_errors(doc: object) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return doc


def test_the_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert compose_schema()["title"] == "Compose Specification"
    assert schema_errors(compose) == []


def test_the_schema_check_rejects_what_compose_would_reject(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["bot"]["healthchek"] = {"test": ["CMD", "true"]}  # a typo
    broken["services"]["worker"]["depends_on"] = {"redis": {"condition": "service_ready"}}
    errors = schema_errors(broken)
    assert any("healthchek" in e for e in errors)
    assert any("service_ready" in e for e in errors)


def test_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"redis", "postgres", *COMPASS_SERVICES}
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")
    assert services["redis"]["image"].startswith("redis:")
    commands = {name: services[name]["command"][0] for name in COMPASS_SERVICES}
    assert commands == {
        "migrate": "migrate",
        "bot": "bot",
        "worker": "worker",
        "doctor": "doctor",
        "lab": "lab",
        "lab-demo": "demo",
    }
    image = services["bot"]["image"]
    assert all(services[name]["image"] == image for name in COMPASS_SERVICES)


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    # `--scale worker=3` refuses a fixed container name or a published host port.
    assert "container_name" not in worker
    assert "ports" not in worker


def test_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("redis", "postgres", "bot", "worker", "lab"):
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert "disable" not in check, name
    assert "/readyz" in " ".join(services["bot"]["healthcheck"]["test"])
    port = services["worker"]["environment"]["COMPASS_WORKER_HEALTH_PORT"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(services["worker"]["healthcheck"]["test"])
    # One-shot jobs exit; the image's HEALTHCHECK (the bot's /healthz) must not mark them unhealthy.
    for name in ("migrate", "doctor", "lab-demo"):
        assert services[name]["healthcheck"] == {"disable": True}
        assert services[name]["restart"] == "no"


def test_dependency_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("bot", "worker", "doctor"):
        assert services[name]["depends_on"] == {
            "redis": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert services["lab-demo"]["depends_on"] == {"lab": {"condition": "service_healthy"}}


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(compose["volumes"]) == {"redis-data", "pg-data", "compass-data"}
    assert "redis-data:/data" in services["redis"]["volumes"]
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "pg-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_the_lab_profile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    in_lab = {name for name, s in services.items() if "lab" in s.get("profiles", [])}
    assert in_lab == {"lab", "lab-demo"}
    # The core stack has no profile: `docker compose up` starts it, `--profile lab` adds the lab.
    for name in ("redis", "postgres", "migrate", "bot", "worker"):
        assert "profiles" not in services[name], name


def test_the_mcp_config_points_at_grafana_or_the_lab(compose: dict[str, Any]) -> None:
    content = compose["configs"]["mcp"]["content"]
    # What Compose hands the container: its own ${GRAFANA_URL:-…} interpolated, $$ unescaped to $.
    as_written = re.sub(
        r"(?<!\$)\$\{GRAFANA_URL:-([^}]*)\}", lambda m: m.group(1), content.replace("$${", "\0")
    ).replace("\0", "${")
    config = parse_mcp_config(as_written, {}, source="compose")
    (server,) = config.servers
    assert server.transport == "stdio"
    assert server.command == "mcp-grafana"
    assert server.env["GRAFANA_URL"] == "http://lab:3100"
    # The token stays a reference that COMPASS expands from the container's environment.
    assert "$${GRAFANA_SERVICE_ACCOUNT_TOKEN" in content
    assert compose["services"]["worker"]["environment"]["COMPASS_MCP_CONFIG"] == "/etc/compass/mcp.json"


def _env_names(model: type[BaseSettings]) -> set[str]:
    prefix = str(model.model_config.get("env_prefix") or "")
    names: set[str] = set()
    for field_name, field in model.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.add(str(alias.choices[0]).upper())
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add((prefix + field_name).upper())
    return names


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    for model in (
        Settings,
        KnowledgeSettings,
        LlmSettings,
        ServiceSettings,
        BotSettings,
        QuestionSettings,
        UiSettings,
        AlertSettings,
    ):
        missing = _env_names(model) - listed
        assert not missing, f"{model.__name__}: {sorted(missing)} missing from .env.example"


def test_every_service_command_is_one_the_cli_accepts(compose: dict[str, Any]) -> None:
    from compass_cli.main import build_parser

    parser = build_parser()
    for name in COMPASS_SERVICES:
        command = compose["services"][name]["command"]
        args = parser.parse_args(command)  # argparse exits 2 on anything it would refuse
        assert callable(args.func), name


def test_the_lab_serves_a_scenario_that_exists(compose: dict[str, Any]) -> None:
    from compass_lab.scenarios import all_scenarios

    command = compose["services"]["lab"]["command"]
    scenario = command[command.index("--scenario") + 1]
    assert scenario in {s.id for s in all_scenarios()}
