"""helm/compass rendered by Helm's own Go engine (helm-python-sdk embeds Helm v4's SDK, no binary, no
cluster), every manifest validated against the Kubernetes API schemas that kubernetes-validate ships, and
assertions on what matters for running it: non-root, probes, no secret inlined, the migration hook Job.
"""

from __future__ import annotations

import base64
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from compass_worker.runbooks import load_team_catalog
from compass_worker.telemetry.config import parse_mcp_config

CHART = Path(__file__).resolve().parents[2] / "helm" / "compass"
KUBERNETES_VERSION = "1.33.0"  # one of the versions kubernetes-validate 1.37.0 ships schemas for
RELEASE = "compass"
NAMESPACE = "incidents"

Manifest = dict[str, Any]

EXTERNAL_DBS: dict[str, Any] = {
    "postgresql": {"enabled": False},
    "externalDatabase": {"existingSecret": "compass-db", "existingSecretKey": "DATABASE_URL"},
    "redis": {"enabled": False},
    "externalRedis": {"existingSecret": "compass-redis"},
    "secrets": {"existingSecret": "compass-secrets"},
}
INGRESS_ON: dict[str, Any] = {
    "bot": {
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "host": "compass.example.org",
            "tls": [{"hosts": ["compass.example.org"], "secretName": "compass-tls"}],
        }
    }
}
HPA_ON: dict[str, Any] = {"worker": {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 6}}}
VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "external-dbs": EXTERNAL_DBS,
    "ingress": INGRESS_ON,
    "hpa": HPA_ON,
}


def render(values: dict[str, Any]) -> dict[str, str]:
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(values)  # as `helm install` does before rendering
        out: dict[str, str] = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        return out


def manifests(rendered: dict[str, str]) -> list[Manifest]:
    docs: list[Manifest] = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Manifest]]:
    name: str = request.param
    return name, manifests(render(VALUE_SETS[name]))


def by_kind(docs: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]


# -- every value set ------------------------------------------------------------------------------------
def test_every_manifest_is_valid_kubernetes(rendered: tuple[str, list[Manifest]]) -> None:
    _, docs = rendered
    assert len(docs) >= 10
    for doc in docs:
        # strict: unknown fields are errors too (a misspelt key would otherwise be dropped silently).
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_catches_a_broken_manifest() -> None:
    docs = manifests(render({}))
    deployment = by_kind(docs, "Deployment")[f"{RELEASE}-bot"]
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_every_pod_runs_as_non_root_on_a_read_only_root(rendered: tuple[str, list[Manifest]]) -> None:
    _, docs = rendered
    seen = 0
    for name, spec in pod_specs(docs):
        seen += 1
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["capabilities"]["drop"] == ["ALL"], name
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"]["memory"], name
    assert seen >= 3


def test_probes(rendered: tuple[str, list[Manifest]]) -> None:
    _, docs = rendered
    deployments = by_kind(docs, "Deployment")
    (bot,) = deployments[f"{RELEASE}-bot"]["spec"]["template"]["spec"]["containers"]
    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert bot["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert bot["args"][0] == "bot"
    (worker,) = deployments[f"{RELEASE}-worker"]["spec"]["template"]["spec"]["containers"]
    assert worker["args"] == ["worker"]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "health"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    env = {e["name"]: e.get("value") for e in worker["env"]}
    (port,) = worker["ports"]
    assert (port["name"], port["containerPort"]) == ("health", int(env["COMPASS_WORKER_HEALTH_PORT"]))
    assert env["COMPASS_WORKER_HEALTH_HOST"] == "0.0.0.0"  # the kubelet probes the pod's address
    for sts in by_kind(docs, "StatefulSet").values():
        (container,) = sts["spec"]["template"]["spec"]["containers"]
        assert "exec" in container["livenessProbe"] and "exec" in container["readinessProbe"]


_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|DATABASE_URL")
_CREDENTIAL_URL = re.compile(r"://[^/\s:@]+:([^@\s]+)@")


def test_no_secret_is_inlined(rendered: tuple[str, list[Manifest]]) -> None:
    name, docs = rendered
    for pod, spec in pod_specs(docs):
        for container in spec["containers"]:
            for env in container.get("env", []):
                value = env.get("value")
                if value is None:
                    assert "secretKeyRef" in env["valueFrom"], (pod, env)
                    continue
                # A plain value may name a secret only through Kubernetes' $(VAR) expansion.
                for password in _CREDENTIAL_URL.findall(value):
                    assert password == "$(POSTGRES_PASSWORD)", (pod, env["name"])
                if _SECRET_NAME.search(env["name"]):
                    assert env["name"] == "DATABASE_URL" and "$(POSTGRES_PASSWORD)" in value, (pod, env)
    secrets = by_kind(docs, "Secret")
    if name == "external-dbs":
        assert secrets == {}  # everything comes from the user's own Secrets
    else:
        # The app Secret is empty by default; only the generated database password exists.
        assert "data" not in secrets[RELEASE]
        assert set(secrets[f"{RELEASE}-postgresql"]["data"]) == {"password"}
    (mcp,) = by_kind(docs, "ConfigMap").values()
    assert "${GRAFANA_SERVICE_ACCOUNT_TOKEN" in mcp["data"]["mcp.json"]


def test_the_migration_hook_job(rendered: tuple[str, list[Manifest]]) -> None:
    name, docs = rendered
    (job,) = by_kind(docs, "Job").values()
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    # Before an upgrade's new pods; before install when the database already exists, else right after it.
    expected_install = "pre-install" if name == "external-dbs" else "post-install"
    assert sorted(hooks) == sorted([expected_install, "pre-upgrade"])
    assert "before-hook-creation" in job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in ("OnFailure", "Never")
    (container,) = spec["containers"]
    assert container["args"] == ["migrate"]
    # A pre-install hook runs before the chart's own ConfigMaps and Secret exist: it needs the database only.
    assert "envFrom" not in container
    assert {e["name"] for e in container["env"]} <= {"DATABASE_URL", "POSTGRES_PASSWORD"}


def test_hardening_objects(rendered: tuple[str, list[Manifest]]) -> None:
    name, docs = rendered
    pdbs = by_kind(docs, "PodDisruptionBudget")
    assert set(pdbs) == {f"{RELEASE}-bot", f"{RELEASE}-worker"}
    policies = by_kind(docs, "NetworkPolicy")
    own_dbs = set() if name == "external-dbs" else {f"{RELEASE}-redis", f"{RELEASE}-postgresql"}
    assert set(policies) == {f"{RELEASE}-bot", f"{RELEASE}-worker", *own_dbs}
    assert policies[f"{RELEASE}-worker"]["spec"]["ingress"] == []


def test_the_mcp_config_map_is_a_config_compass_reads(rendered: tuple[str, list[Manifest]]) -> None:
    _, docs = rendered
    (mcp,) = by_kind(docs, "ConfigMap").values()
    config = parse_mcp_config(mcp["data"]["mcp.json"], {}, source="configmap")
    assert config.names == ("grafana",)


# -- each value set's own point ---------------------------------------------------------------------------
def test_default_values_bring_their_own_redis_and_postgresql() -> None:
    docs = manifests(render({}))
    statefulsets = by_kind(docs, "StatefulSet")
    assert set(statefulsets) == {f"{RELEASE}-redis", f"{RELEASE}-postgresql"}
    redis_args = statefulsets[f"{RELEASE}-redis"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert redis_args[redis_args.index("--appendonly") + 1] == "yes"
    pg = statefulsets[f"{RELEASE}-postgresql"]["spec"]["template"]["spec"]["containers"][0]
    assert pg["image"].startswith("pgvector/pgvector:")
    assert by_kind(docs, "Ingress") == {}
    assert by_kind(docs, "HorizontalPodAutoscaler") == {}


def test_external_databases_come_from_the_users_secrets() -> None:
    docs = manifests(render(EXTERNAL_DBS))
    assert by_kind(docs, "StatefulSet") == {}
    worker = by_kind(docs, "Deployment")[f"{RELEASE}-worker"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in worker["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "compass-db", "key": "DATABASE_URL"}
    assert env["REDIS_URL"]["valueFrom"]["secretKeyRef"] == {"name": "compass-redis", "key": "REDIS_URL"}
    assert worker["envFrom"] == [{"secretRef": {"name": "compass-secrets"}}]


def test_external_database_without_a_secret_is_refused_in_one_line() -> None:
    with pytest.raises(helm.HelmError, match=r"externalDatabase.existingSecret is required"):
        render({"postgresql": {"enabled": False}})


def test_ingress_routes_slack_to_the_bot() -> None:
    docs = manifests(render(INGRESS_ON))
    (ingress,) = by_kind(docs, "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "compass.example.org"
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/slack/events"
    assert path["backend"]["service"] == {"name": f"{RELEASE}-bot", "port": {"name": "http"}}
    assert ingress["spec"]["tls"][0]["secretName"] == "compass-tls"


def test_hpa_scales_the_workers() -> None:
    docs = manifests(render(HPA_ON))
    (hpa,) = by_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{RELEASE}-worker"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    # The HPA owns the replica count; a fixed one would fight it on every upgrade.
    assert "replicas" not in by_kind(docs, "Deployment")[f"{RELEASE}-worker"]["spec"]


def test_secrets_given_as_values_stay_in_the_secret() -> None:
    token = "xoxb-not-a-real-token"
    rendered = render({"secrets": {"values": {"SLACK_BOT_TOKEN": token}}})
    secret = by_kind(manifests(rendered), "Secret")[RELEASE]
    assert base64.b64decode(secret["data"]["SLACK_BOT_TOKEN"]).decode() == token
    outside = [path for path, text in rendered.items() if token in text]
    assert outside == []  # base64 in the Secret, nowhere in plain text


def test_team_signal_catalogs_are_mounted_and_configured() -> None:
    toml = '[[signal]]\nname = "latency"\n'
    docs = manifests(render({"catalogs": {"signals": {"payments.toml": toml}}}))
    catalogs = by_kind(docs, "ConfigMap")[f"{RELEASE}-catalogs"]
    assert catalogs["data"]["payments.toml"].strip() == toml.strip()
    worker = by_kind(docs, "Deployment")[f"{RELEASE}-worker"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert json.loads(env["COMPASS_SIGNAL_CATALOG"]) == ["/etc/compass/catalogs/signals/payments.toml"]
    mounts = {m["mountPath"] for m in worker["volumeMounts"]}
    assert "/etc/compass/catalogs/signals" in mounts


def test_team_runbooks_are_mounted_and_load_as_the_worker_would() -> None:
    toml = '[[runbook]]\ntitle = "db"\nurl = "https://wiki.example.com/db"\ncomponents = ["*-db"]\n'
    docs = manifests(render({"catalogs": {"runbooks": {"team.toml": toml}}}))
    data = by_kind(docs, "ConfigMap")[f"{RELEASE}-runbooks"]["data"]
    worker = by_kind(docs, "Deployment")[f"{RELEASE}-worker"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in worker["containers"][0]["env"]}
    assert json.loads(env["COMPASS_RUNBOOKS"]) == ["/etc/compass/catalogs/runbooks/team.toml"]
    mounts = {m["name"]: m["mountPath"] for m in worker["containers"][0]["volumeMounts"]}
    assert mounts["runbooks"] == "/etc/compass/catalogs/runbooks"
    # What the ConfigMap carries is a catalog the worker accepts.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "team.toml"
        path.write_text(data["team.toml"])
        assert [r.title for r in load_team_catalog([path]).runbooks] == ["db"]


def test_service_monitor_when_enabled() -> None:
    # A Prometheus Operator CRD: kubernetes-validate has no schema for it, so its fields are checked here.
    docs = manifests(render({"serviceMonitor": {"enabled": True, "interval": "15s"}}))
    (monitor,) = by_kind(docs, "ServiceMonitor").values()
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint == {"port": "http", "path": "/metrics", "interval": "15s"}
    service = by_kind(docs, "Service")[f"{RELEASE}-bot"]
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]


def test_values_schema_rejects_misspelt_and_bad_values() -> None:
    with helm.Chart.load(str(CHART)) as chart:
        with pytest.raises(helm.HelmValuesError, match="replicas"):
            chart.validate_schema({"bot": {"replicas": 3}})
        with pytest.raises(helm.HelmValuesError, match="maxReplicas"):
            chart.validate_schema({"worker": {"autoscaling": {"maxReplicas": 0}}})
        with pytest.raises(helm.HelmValuesError, match="url"):
            chart.validate_schema({"externalRedis": {"url": "http://redis:6379"}})


def test_notes_tell_what_to_do_next() -> None:
    notes = render({})["compass/templates/NOTES.txt"]
    assert "create secret generic" in notes
    assert "compass doctor" in notes
    with_ingress = render({**INGRESS_ON, "secrets": {"existingSecret": "s"}})["compass/templates/NOTES.txt"]
    assert "https://compass.example.org/slack/events" in with_ingress
    assert "create secret generic" not in with_ingress
    assert "COMPASS_UI_TOKENS" in notes
    assert "with 2 bot replicas also set COMPASS_UI_SECRET" in notes  # default: 2 pods
    single = render({"bot": {"replicaCount": 1}})["compass/templates/NOTES.txt"]
    assert "COMPASS_UI_SECRET" not in single  # one bot pod: its per-process key is enough


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_helm_lint_strict_finds_nothing_above_info(name: str) -> None:
    report = helm.lint(str(CHART), VALUE_SETS[name], strict=True, namespace=NAMESPACE, kube_version="1.33.0")
    assert report["errors"] == []
    # Helm's severities: 1 info ("icon is recommended"), 2 warning, 3 error.
    assert [m for m in report["messages"] if m["severity"] > 1] == []


def test_helm_lint_reports_a_broken_value() -> None:
    report = helm.lint(str(CHART), {"bot": {"replicaCount": 0}}, strict=True, namespace=NAMESPACE)
    assert any(m["severity"] > 1 and "replicaCount" in m["error"] for m in report["messages"])


def test_every_container_runs_a_command_the_cli_accepts(rendered: tuple[str, list[Manifest]]) -> None:
    from compass_cli.main import build_parser

    _, docs = rendered
    parser = build_parser()
    for pod, spec in pod_specs(docs):
        for container in spec["containers"]:
            if container["image"].startswith(("redis:", "pgvector/")):
                continue
            args = parser.parse_args(container["args"])  # argparse exits 2 on anything it would refuse
            assert callable(args.func), pod


def test_socket_mode_needs_no_ingress() -> None:
    rendered = render({"bot": {"socketMode": True}, "secrets": {"existingSecret": "s"}})
    deployment = by_kind(manifests(rendered), "Deployment")[f"{RELEASE}-bot"]
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    (bot,) = deployment["spec"]["template"]["spec"]["containers"]
    assert bot["args"][-1] == "--socket-mode"
    from compass_cli.main import build_parser

    assert build_parser().parse_args(bot["args"]).socket_mode is True
    assert "Socket Mode" in rendered["compass/templates/NOTES.txt"]
