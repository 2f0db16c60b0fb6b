"""The nezha-dev dataset on a tiny archive in Nezha's layout (tests/lab/nezha_fixture.py): unpacking and
the cache, scenarios and their truth, and the conversion of each modality."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nezha_fixture as fx
import numpy as np
import pytest

from compass_lab.datasets import load_dataset
from compass_lab.model import Scenario, ScenarioKind, TelemetrySet
from compass_lab.nezha import NezhaDataError, NezhaDataset, NezhaSettings
from compass_lab.nezha.layout import truth_fault
from compass_lab.nezha.naming import deployment_of, metric_name

OB_CPU = "nezha-ob-2022-08-22-0353-cpu_contention-cartservice"
OB_EXC = "nezha-ob-2022-08-22-0410-exception-frontend"
TT_NET = "nezha-tt-2023-01-30-1151-network_delay-ts-basic-service"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.build_archive(tmp_path_factory.mktemp("nezha") / "nezha-dev.tar.xz")


@pytest.fixture(scope="module")
def dataset(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> NezhaDataset:
    cache = tmp_path_factory.mktemp("nezha-cache")
    return NezhaDataset(NezhaSettings(archive=archive, cache_dir=cache, trace_sample=1.0))


@pytest.fixture(scope="module")
def by_id(dataset: NezhaDataset) -> dict[str, Scenario]:
    return {s.id: s for s in dataset.scenarios()}


@pytest.fixture(scope="module")
def ob_cpu(dataset: NezhaDataset, by_id: dict[str, Scenario]) -> TelemetrySet:
    return dataset.build_telemetry(by_id[OB_CPU])


# -- names and labels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "name"),
    [
        ("CpuUsageRate(%)", "CpuUsageRate_percent"),
        ("CpuUsage(m)", "CpuUsage_m"),
        ("PodClientLatencyP99(s)", "PodClientLatencyP99_s"),
        ("PodWorkload(Ops)", "PodWorkload_Ops"),
        ("SyscallRead", "SyscallRead"),
    ],
)
def test_metric_names_are_the_columns_made_prometheus_legal(column: str, name: str) -> None:
    assert metric_name(column) == name


def test_pod_to_deployment() -> None:
    assert deployment_of("frontend-579b9bff58-t2dbm") == "frontend"
    assert deployment_of("ts-basic-service-5dc8d4f9fd-llznp") == "ts-basic-service"
    assert deployment_of("redis-0") == "redis-0"


@pytest.mark.parametrize(
    ("inject_type", "fault"),
    [
        ("cpu_contention", "cpu_saturation"),
        ("cpu_consumed", "cpu_saturation"),
        ("network_delay", "dependency_latency"),
        ("exception", "code_defect"),
        ("return", "code_defect"),
    ],
)
def test_inject_type_to_faults_md_id(inject_type: str, fault: str) -> None:
    assert truth_fault(inject_type) == fault


def test_unknown_inject_type_is_a_clear_error() -> None:
    with pytest.raises(NezhaDataError, match="unknown Nezha inject_type 'disk_fill'"):
        truth_fault("disk_fill")


# -- scenarios ---------------------------------------------------------------------------------------------


def test_one_scenario_per_labelled_fault_plus_controls(by_id: dict[str, Scenario]) -> None:
    faults = {sid for sid, s in by_id.items() if s.kind == ScenarioKind.FAULT}
    assert faults == {OB_CPU, OB_EXC, TT_NET}
    controls = [s for s in by_id.values() if s.kind == ScenarioKind.CONTROL]
    assert [(s.system, s.at) for s in controls] == [
        ("online-boutique", fx.epoch(fx.OB.date, fx.OB.blip) + 19 - 30 + 180),
        ("train-ticket", fx.epoch(fx.TT.date, fx.TT.blip) + 19 - 30 + 180),
    ]
    assert all(s.truth_component is None and s.truth_fault is None and s.onset is None for s in controls)


def test_fault_truth_question_and_time(by_id: dict[str, Scenario]) -> None:
    s = by_id[OB_CPU]
    inject = fx.epoch(fx.OB.date, "03:53:54")
    assert (s.truth_component, s.truth_fault, s.variant) == (
        "cartservice",
        "cpu_saturation",
        "cpu_contention",
    )
    assert (s.system, s.symptom_component, s.onset, s.at) == (
        "online-boutique",
        "frontend",
        inject,
        inject + 180,
    )
    assert 1800 <= s.window_s <= 3600
    # the engineer reports the entry's p99 (1 s -> 3 s) from the first minute that showed it
    assert s.symptom == "frontend p99 latency up to 3.0s (normally ~1.0s) since 03:54"
    assert "cartservice" not in s.symptom
    tt = by_id[TT_NET]
    assert (tt.truth_component, tt.truth_fault, tt.symptom_component) == (
        "ts-basic-service",
        "dependency_latency",
        "ts-ui-dashboard",
    )
    assert by_id[OB_EXC].truth_fault == "code_defect"
    assert by_id[OB_EXC].variant == "exception"


def test_modalities_follow_the_files_that_exist(by_id: dict[str, Scenario]) -> None:
    # the exception fault's log files are absent; its window still holds the earlier fault's logs
    assert (by_id[OB_CPU].has_traces, by_id[OB_CPU].has_logs) == (True, True)
    control = next(s for s in by_id.values() if s.id.startswith("nezha-ob") and s.truth_fault is None)
    assert (control.has_traces, control.has_logs) == (False, False)


# -- telemetry ---------------------------------------------------------------------------------------------


def test_metrics_keep_the_recordings_names_labels_and_minutes(ob_cpu: TelemetrySet) -> None:
    names = {s.labels["__name__"] for s in ob_cpu.series}
    assert {fx.POD_COLUMNS[0], "CpuUsage_m", "CpuUsageRate_percent", "LatencyP99_s", "source_50"} - names == {
        fx.POD_COLUMNS[0]
    }
    assert not any(n.startswith("nezha") for n in names)
    cpu = {s.labels["pod"]: s for s in ob_cpu.series if s.labels["__name__"] == "CpuUsageRate_percent"}
    assert set(cpu) == {fx.OB.entry_pod, fx.OB.callee_pod}
    cart = cpu[fx.OB.callee_pod]
    assert dict(cart.labels) == {
        "__name__": "CpuUsageRate_percent",
        "namespace": "hipster",
        "pod": fx.OB.callee_pod,
    }
    # the corrupt TimeStamp column is ignored: samples sit on the Time column's minutes
    expected_t = [t for t in fx.row_times(fx.OB) if ob_cpu.start <= t <= ob_cpu.end]
    assert cart.timestamps.tolist() == expected_t
    assert cart.values.tolist() == [fx.cpu_rate(fx.OB, fx.OB.callee_pod, t) for t in expected_t]
    assert max(cart.values) == 90.0
    front = next(s for s in ob_cpu.series if s.labels["__name__"] == "LatencyP99_s")
    # front_service.csv measures the entry: served under the entry deployment's name
    assert dict(front.labels) == {
        "__name__": "LatencyP99_s",
        "namespace": "hipster",
        "ServiceName": "frontend",
    }
    edge = next(s for s in ob_cpu.series if s.labels["__name__"] == "source_50")
    assert (edge.labels["source"], edge.labels["destination"]) == ("frontend", "cartservice")
    assert np.all(np.diff(edge.timestamps) > 0)


def test_entry_file_names_the_entry_deployment_on_every_day(
    dataset: NezhaDataset, by_id: dict[str, Scenario]
) -> None:
    # the recording calls it "Frontend" on TrainTicket too, where the entry is ts-ui-dashboard
    tt = dataset.build_telemetry(by_id[TT_NET])
    entry = {s.labels["ServiceName"] for s in tt.series if "ServiceName" in s.labels}
    assert entry == {"ts-ui-dashboard"}
    assert "LatencyP99_s" in {s.labels["__name__"] for s in tt.series if "ServiceName" in s.labels}


def test_empty_cells_are_absent_samples(ob_cpu: TelemetrySet) -> None:
    edge = next(s for s in ob_cpu.series if s.labels["__name__"] == "source_50")
    expected = [
        t for t in fx.row_times(fx.OB) if ob_cpu.start <= t <= ob_cpu.end and t != fx.EMPTY_EDGE_CELL_T
    ]
    assert edge.timestamps.tolist() == expected


def test_spans_keep_structure_and_derive_kind(ob_cpu: TelemetrySet) -> None:
    spans = ob_cpu.spans
    assert len(spans) == 3 * 4 * 4  # three minute files, four traces of four spans; the broken row dropped
    trace = [s for s in spans if s.trace_id == spans[0].trace_id]
    by_name = {(s.service, s.name): s for s in trace}
    root = by_name[("frontend", "Recv.")]
    client = by_name[("frontend", "GetCart")]
    server = by_name[("cartservice", "GetCart")]
    inner = by_name[("cartservice", "redis.get")]
    assert root.parent_span_id is None
    assert (client.parent_span_id, server.parent_span_id, inner.parent_span_id) == (
        root.span_id,
        client.span_id,
        server.span_id,
    )
    assert [s.kind for s in (root, client, server, inner)] == ["server", "client", "server", "internal"]
    assert (server.duration_ns, server.status) == (38_000_000, "unset")
    assert server.resource_attributes == {"k8s.pod.name": fx.OB.callee_pod, "k8s.namespace.name": "hipster"}
    assert len(root.trace_id) == 32 and len(root.span_id) == 16


def test_trace_sampling_keeps_or_drops_whole_traces(archive: Path, tmp_path: Path) -> None:
    half = NezhaDataset(NezhaSettings(archive=archive, cache_dir=tmp_path, trace_sample=0.5))
    spans = half.build_telemetry(next(s for s in half.scenarios() if s.id == OB_CPU)).spans
    per_trace = Counter(s.trace_id for s in spans)
    assert 0 < len(per_trace) < 12
    assert set(per_trace.values()) == {4}


def test_logs_are_unwrapped_lines_in_kubernetes_streams(ob_cpu: TelemetrySet) -> None:
    (stream,) = ob_cpu.log_streams
    assert dict(stream.labels) == {
        "namespace": "hipster",
        "pod": fx.OB.callee_pod,
        "container": "server",
        "stream": "stdout",
        "job": "hipster/cartservice",
        "service_name": "cartservice",
    }
    assert len(stream.lines) == 12
    assert stream.lines[0].line.startswith("TraceID: ") and stream.lines[0].line.endswith("served cart 0")
    assert [ln.ts_ns for ln in stream.lines] == sorted(ln.ts_ns for ln in stream.lines)


def test_absent_log_files_stay_missing(dataset: NezhaDataset, by_id: dict[str, Scenario]) -> None:
    tel = dataset.build_telemetry(by_id[OB_EXC])
    inject_ns = fx.epoch(fx.OB.date, "04:10:00") * 10**9
    assert all(ln.ts_ns < inject_ns for st in tel.log_streams for ln in st.lines)
    assert any(s.start_ns >= inject_ns for s in tel.spans)


def test_telemetry_only_for_the_recordings_scenarios(
    dataset: NezhaDataset, by_id: dict[str, Scenario]
) -> None:
    forged = by_id[OB_CPU].model_copy(update={"truth_component": "frontend"})
    with pytest.raises(NezhaDataError, match="not one of the recording's"):
        dataset.build_telemetry(forged)


# -- the cache ---------------------------------------------------------------------------------------------


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_cache_is_reused_and_refreshed_when_the_archive_changes(archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "nezha-dev.tar.xz"
    copy.write_bytes(archive.read_bytes())
    cache = tmp_path / "cache"
    first = NezhaDataset(NezhaSettings(archive=copy, cache_dir=cache)).scenarios()
    assert (cache / "raw" / "rca_data" / "2022-08-22" / "metric" / "front_service.csv").is_file()
    assert not (cache / "raw" / "construct_data").exists()
    assert (cache / "compact-v1" / "2023-01-30" / "manifest.json").is_file()
    before = _mtimes(cache)
    again = NezhaDataset(NezhaSettings(archive=copy, cache_dir=cache)).scenarios()
    assert again == first
    assert _mtimes(cache) == before  # nothing unpacked or converted again
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    NezhaDataset(NezhaSettings(archive=copy, cache_dir=cache)).scenarios()
    after = _mtimes(cache)
    assert after["compact-v1/2022-08-22/metrics.npz"] != before["compact-v1/2022-08-22/metrics.npz"]


def test_missing_archive_is_one_clear_error(tmp_path: Path) -> None:
    ds = NezhaDataset(NezhaSettings(archive=tmp_path / "nope.tar.xz", cache_dir=tmp_path))
    with pytest.raises(NezhaDataError, match=r"Nezha archive not found: .*nope\.tar\.xz"):
        ds.scenarios()


def test_not_an_archive_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "nezha-dev.tar.xz"
    bad.write_bytes(b"not xz")
    with pytest.raises(NezhaDataError, match="cannot unpack"):
        NezhaDataset(NezhaSettings(archive=bad, cache_dir=tmp_path / "c")).scenarios()


def _compass(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "compass"
    return subprocess.run(
        [str(exe), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_lists_the_dataset_and_reports_a_missing_archive(archive: Path, tmp_path: Path) -> None:
    env = {"COMPASS_NEZHA_ARCHIVE": str(archive), "COMPASS_NEZHA_CACHE_DIR": str(tmp_path / "c")}
    ok = _compass("lab", "list", "--dataset", "nezha-dev", env=env)
    assert ok.returncode == 0, ok.stderr
    listed = [line.split("\t") for line in ok.stdout.splitlines()]
    assert [row[0] for row in listed if row[2] == "fault"] == [OB_CPU, OB_EXC, TT_NET]
    assert [row[3] for row in listed if row[0] == OB_CPU] == ["metrics+logs+traces"]
    bad = _compass(
        "lab", "list", "--dataset", "nezha-dev", env={**env, "COMPASS_NEZHA_ARCHIVE": "/nonexistent"}
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Nezha archive not found: /nonexistent" in bad.stderr


def test_registered_as_a_lab_dataset() -> None:
    ds = load_dataset("nezha-dev")
    assert ds.name == "nezha-dev"
    assert callable(ds.scenarios) and callable(ds.build_telemetry)
