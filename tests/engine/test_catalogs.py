"""The signal and fault catalogs are data: valid, complete against FAULTS.md, extensible."""

from pathlib import Path

import pytest

from compass_worker.contracts import ADDED_FAULT_IDS, FAULT_IDS
from compass_worker.engine.faultcatalog import load_faults
from compass_worker.engine.log_templates import SIGNAL as LOG_TEMPLATE
from compass_worker.errors import ConfigError
from compass_worker.signals.catalog import load_catalog
from compass_worker.signals.naming import host_of, normalise


def test_every_fault_of_faults_md_is_in_the_catalog_with_signatures() -> None:
    faults = load_faults()
    # the vocabulary of FAULTS.md (the shared contract), plus the ids the engine added to it
    assert set(faults.ids) == set(FAULT_IDS) | set(ADDED_FAULT_IDS)
    trace_signals = {
        "trace_error_origin",
        "trace_self_time",
        "trace_edge_self_time",
        "trace_edge_passthrough",
    }
    # series the engine builds itself: version changes, log-template bursts (Drain)
    signals = set(load_catalog().signals) | {"version_change", LOG_TEMPLATE} | trace_signals
    for spec in faults.faults.values():
        assert spec.evidence, spec.id
        assert any(r.key for r in spec.evidence) or any(r.key for r in spec.logs), spec.id
        assert spec.signals <= signals, (spec.id, spec.signals - signals)
        # every fault has at least one observation that can refute it
        assert (
            any(r.refute for r in spec.evidence)
            or spec.id in {"dependency_latency", "cache_failure", "config_change", "memory_leak"}
            or spec.logs
        ), spec.id


def test_catalog_selects_entries_by_present_metrics() -> None:
    cat = load_catalog()
    otel = cat.applicable(
        {"http_server_request_duration_seconds_count", "http_server_request_duration_seconds_bucket"}
    )
    assert {e.signal for e in otel} == {"requests", "error_ratio", "latency"}
    prom = cat.applicable(
        {"http_requests_total", "kube_pod_container_resource_limits", "container_cpu_usage_seconds_total"}
    )
    assert {e.family for e in prom if e.signal == "cpu_utilization"} == {"cadvisor+ksm"}
    assert not cat.applicable({"some_inhouse_metric"})


def test_team_catalog_extends_and_bad_catalog_is_one_line_error(tmp_path: Path) -> None:
    extra = tmp_path / "team.toml"
    extra.write_text(
        '[signals]\nqueue_age = { bad = "up", unit = "s", text = "oldest message age" }\n'
        '[[entry]]\nsignal = "queue_age"\nfamily = "inhouse"\nkind = "queue"\n'
        'requires = ["jobs_oldest_age_seconds"]\n'
        'component_labels = ["queue"]\nquery = "max by ({by}) (jobs_oldest_age_seconds)"\n'
        '[logs]\ncomponent_labels = ["app"]\nerror_filter = "error"\n'
        '[traces]\nservice_attribute = "resource.service.name"\npeer_attributes = []\n'
    )
    cat = load_catalog([extra])
    assert any(e.signal == "queue_age" for e in cat.applicable({"jobs_oldest_age_seconds"}))
    bad = tmp_path / "bad.toml"
    bad.write_text("[[entry]]\nsignal = 'x'\n")
    with pytest.raises(ConfigError) as err:
        load_catalog([bad])
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalog([tmp_path / "missing.toml"])


@pytest.mark.parametrize(
    ("raw", "label", "name"),
    [
        ("payments-db:9187", "instance", "payments-db"),
        ("https://psp-api.example.com:443/health", "instance", "psp-api.example.com"),
        ("payments-db.shop.svc.cluster.local", "server_address", "payments-db"),
        ("checkout-7d9f8b6c5d-x2k9q", "pod", "checkout"),
        ("orders-db-0", "pod", "orders-db"),
        # any key naming the pod (Datadog's pod_name, a scrape's kubernetes_pod_name, CSV PodName)
        ("tenant-worker-m5xmlbjwvq-42ss9", "pod_name", "tenant-worker"),
        ("checkout-7d9f8b6c5d-x2k9q", "kubernetes_pod_name", "checkout"),
        ("checkout-7d9f8b6c5d-x2k9q", "PodName", "checkout"),
        ("checkout-7d9f8b6c5d-x2k9q", "service", "checkout-7d9f8b6c5d-x2k9q"),
        ("data-orders-db-0", "persistentvolumeclaim", "orders-db"),
        ("10.0.3.12:6379", "instance", "10.0.3.12"),
    ],
)
def test_component_names_are_normalised(raw: str, label: str, name: str) -> None:
    assert normalise(raw, label=label) == name


def test_host_of_brackets_ipv6() -> None:
    assert host_of("[::1]:8080") == "::1"
