"""The randomised lab (`--dataset random`): its plan, its families and the telemetry it builds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from compass_lab.datasets import load_dataset
from compass_lab.model import Scenario, ScenarioKind, Split, TelemetrySet
from compass_lab.randomised import UnknownRandomScenario, build_telemetry, scenarios
from compass_lab.randomised.conventions import CONVENTIONS
from compass_lab.randomised.families import FAMILIES, families
from compass_lab.randomised.shapes import generate
from compass_lab.scenarios import all_scenarios
from compass_lab.scenarios.faults import FAULT_IDS
from compass_lab.scenarios.topology import System
from compass_worker.signals.catalog import load_catalog

# catalog entry families that describe application (service) telemetry, as opposed to exporters
APP_FAMILIES = ("otel", "prom-client", "micrometer", "hikaricp", "grpc", "prometheus-style reloaders")
LIBRARY_SERVICES = {c.name for s in all_scenarios() for c in s.components if c.kind != "host"}


def _first(pred: object) -> Scenario:
    return next(s for s in scenarios() if callable(pred) and pred(s))


def _same(a: TelemetrySet, b: TelemetrySet) -> bool:
    if (len(a.series), len(a.log_streams), len(a.spans)) != (len(b.series), len(b.log_streams), len(b.spans)):
        return False
    for x, y in zip(a.series, b.series, strict=True):
        if dict(x.labels) != dict(y.labels) or not np.array_equal(x.values, y.values, equal_nan=True):
            return False
    return a.log_streams == b.log_streams and a.spans == b.spans


def test_registered_as_a_dataset() -> None:
    data = load_dataset("random")
    assert [s.id for s in data.scenarios()] == [s.id for s in scenarios()]
    assert data.build_telemetry is build_telemetry


def test_every_fault_id_and_controls_in_each_split() -> None:
    for split in (Split.DEV, Split.HELDOUT):
        got = [s for s in scenarios() if s.split == split]
        faults = Counter(s.truth_fault for s in got if s.kind == ScenarioKind.FAULT)
        assert set(faults) == set(FAULT_IDS)
        assert min(faults.values()) >= 4
        controls = [s for s in got if s.kind == ScenarioKind.CONTROL]
        assert len(controls) >= 8
        assert all(c.truth_fault is None and c.truth_component is None and c.onset is None for c in controls)
        assert {s.system for s in got} == {f.name for f in families(split)}


def test_held_out_families_share_no_convention_or_shape_with_dev() -> None:
    dev, held = families(Split.DEV), families(Split.HELDOUT)
    assert {f.convention for f in dev}.isdisjoint({f.convention for f in held})
    assert {f.shape for f in dev}.isdisjoint({f.shape for f in held})
    for s in scenarios():
        fam = next(f for f in FAMILIES if f.name == s.system)
        assert (s.split, s.conventions) == (fam.split, fam.convention)
    assert len({f.convention for f in FAMILIES}) >= 6
    unknown = {f.split for f in FAMILIES if not CONVENTIONS[f.convention].catalog_known}
    assert unknown == {Split.DEV, Split.HELDOUT}  # both splits exercise discovery beyond the catalog


def test_generated_systems_are_random_sized_with_fresh_names() -> None:
    sizes = [len(s.components) for s in scenarios()]
    assert min(sizes) >= 6 and max(sizes) <= 40
    assert len(set(sizes)) > 15
    kinds = {c.kind for s in scenarios() for c in s.components}
    assert kinds == {"service", "database", "cache", "queue", "host", "dns", "external"}
    names = {c.name for s in scenarios() for c in s.components if c.kind not in ("host", "dns")}
    assert names.isdisjoint(LIBRARY_SERVICES)
    for s in scenarios():
        comps = {c.name for c in s.components}
        assert s.symptom_component in comps
        assert s.truth_component is None or s.truth_component in comps


def test_same_seed_same_telemetry() -> None:
    s = scenarios()[0]
    first = build_telemetry(s)
    for other in scenarios()[1:5]:  # pushes `s` out of the builder's small cache
        build_telemetry(other)
    again = build_telemetry(s)
    assert again is not first
    assert _same(first, again)
    assert not _same(first, build_telemetry(scenarios()[1]))


_DIGEST_SRC = """
def digest(tel):
    h = hashlib.sha256()
    for s in tel.series:
        h.update(repr(sorted(s.labels.items())).encode())
        h.update(s.values.tobytes())
    for st in tel.log_streams:
        h.update(repr((sorted(st.labels.items()), st.lines)).encode())
    h.update(repr(tel.spans).encode())
    return h.hexdigest()
"""
_namespace: dict[str, object] = {"hashlib": hashlib}
exec(_DIGEST_SRC, _namespace)  # the same digest here and in the child process
digest = _namespace["digest"]
_CHILD = (
    "import hashlib, sys\n"
    "from compass_lab.randomised import build_telemetry, scenarios\n"
    + _DIGEST_SRC
    + "print(digest(build_telemetry(next(x for x in scenarios() if x.id == sys.argv[1]))))\n"
)


@pytest.mark.slow
@pytest.mark.timeout(400)  # the child process plans the whole dataset again
def test_same_seed_same_telemetry_in_another_process() -> None:
    """The lab server and the benchmark build telemetry in different processes: they must agree."""
    s = next(x for x in scenarios() if x.conventions == "statsd-mapper")
    other = subprocess.run(
        [sys.executable, "-c", _CHILD, s.id], capture_output=True, text=True, check=True, timeout=300
    )
    assert callable(digest)
    assert other.stdout.strip() == digest(build_telemetry(s))


def test_a_scenario_that_is_not_the_datasets_is_refused() -> None:
    s = scenarios()[0]
    with pytest.raises(UnknownRandomScenario):
        build_telemetry(s.model_copy(update={"seed": s.seed + 1}))
    with pytest.raises(UnknownRandomScenario):
        build_telemetry(s.model_copy(update={"id": "nope"}))


@pytest.mark.parametrize("convention", sorted(c for c, f in CONVENTIONS.items() if not f.catalog_known))
def test_unknown_families_are_unknown_to_the_catalog(convention: str) -> None:
    s = _first(lambda s: s.conventions == convention and s.kind == ScenarioKind.FAULT)
    tel = build_telemetry(s)
    names = frozenset(x.labels["__name__"] for x in tel.series)
    applicable = load_catalog().applicable(names)
    app = [e for e in applicable if e.family.startswith(APP_FAMILIES)]
    assert app == [], f"{convention}: the catalog knows {[(e.signal, e.family) for e in app]}"
    assert any(e.family == "cadvisor" for e in applicable)  # the exporters are still the usual ones
    services = {c.name for c in s.components if c.kind == "service"}
    labelled = {v for x in tel.series for v in x.labels.values() if v in services}
    assert s.symptom_component in labelled  # the services are still there, under other names


def test_known_families_are_known_to_the_catalog() -> None:
    for convention in ("otel", "prom-client", "micrometer"):
        s = _first(lambda s, c=convention: s.conventions == c)
        names = frozenset(x.labels["__name__"] for x in build_telemetry(s).series)
        signals = {e.signal for e in load_catalog().applicable(names) if e.family.startswith(APP_FAMILIES)}
        assert {"requests", "error_ratio"} <= signals, convention


def _depth(system: System, name: str, seen: frozenset[str] = frozenset()) -> int:
    """Hops of the longest call path below `name` (consumers do not call their queue)."""
    below = [e.callee for e in system.calls_of(name) if e.protocol != "consume" and e.callee not in seen]
    return max((1 + _depth(system, c, seen | {name}) for c in below), default=0)


def test_diamond_systems_reach_services_and_stores_through_two_paths() -> None:
    """The diamond shape: services reached through two callers, stores shared by two, depth 4-6."""
    for seed in range(12):
        system = generate("diamond", "d", np.random.default_rng(seed), int(6 + 3 * seed), frozenset({"sql"}))
        callers: dict[str, set[str]] = {}
        for e in system.edges:
            if e.protocol != "consume":
                callers.setdefault(e.callee, set()).add(e.caller)
        kinds = {n.name: n.kind for n in system.nodes}
        shared = {c for c, who in callers.items() if len(who) >= 2}
        assert any(kinds[c] == "service" for c in shared), seed
        assert any(kinds[c] == "database" for c in shared), seed
        assert 4 <= _depth(system, system.entry) <= 7, seed
        assert len(system.components()) <= 40


def test_the_opencensus_family_speaks_its_own_names() -> None:
    s = _first(lambda s: s.conventions == "opencensus" and s.kind == ScenarioKind.FAULT)
    names = {x.labels["__name__"] for x in build_telemetry(s).series}
    assert "opencensus_io_http_server_latency_bucket" in names
    assert "opencensus_io_http_client_roundtrip_latency_bucket" in names
    assert not any(
        n.startswith(("http_server_request_duration", "http_client_request_duration")) for n in names
    )


_IDS_CHILD = (
    "import json\n"
    "from compass_lab.randomised import scenarios\n"
    "print(json.dumps([[s.id, s.split.value, s.seed] for s in scenarios()]))\n"
)


@pytest.mark.slow
@pytest.mark.timeout(400)  # the child process plans the whole dataset again
def test_a_redrawn_dev_plan_is_new_and_leaves_the_held_out_plan_alone() -> None:
    env = {**os.environ, "COMPASS_RANDOM_DEV_SEED": "20261207"}
    out = subprocess.run(
        [sys.executable, "-c", _IDS_CHILD], capture_output=True, text=True, check=True, timeout=300, env=env
    )
    redrawn = json.loads(out.stdout)
    fixed = [[s.id, s.split.value, s.seed] for s in scenarios()]
    assert [r for r in redrawn if r[1] == "heldout"] == [r for r in fixed if r[1] == "heldout"]
    dev = [r for r in redrawn if r[1] == "dev"]
    assert len(dev) == len([r for r in fixed if r[1] == "dev"])
    assert all("-dev-r20261207-" in r[0] for r in dev)  # never mistaken for the fixed plan's scenarios
    assert not {r[2] for r in dev} & {r[2] for r in fixed}


def test_a_bad_dev_seed_is_one_line_and_exit_2() -> None:
    env = {**os.environ, "COMPASS_RANDOM_DEV_SEED": "twelve"}
    run = subprocess.run(
        [sys.executable, "-m", "compass_cli.main", "lab", "list", "--dataset", "random"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == "compass: error: COMPASS_RANDOM_DEV_SEED must be an integer, not 'twelve'"


def _digest(got: list[Scenario]) -> str:
    h = hashlib.sha256()
    for s in got:
        h.update(f"{s.id}|{s.seed}|{s.at}|{s.title}|{s.symptom}\n".encode())
    return h.hexdigest()


def test_an_appended_family_leaves_the_plan_before_it_as_it_was() -> None:
    """Families added later are planned after the rotation: the held-out plan and every earlier dev
    scenario are the ones of the 7 Dec plan (digests of id, seed, time, title and symptom)."""
    held = [s for s in scenarios() if s.split == Split.HELDOUT]
    assert _digest(held) == "b9ea8826dac0f69d40192d9bab0743918e2b5016006e660d1ec2cafd851ff8fa"
    appended = {f.name for f in FAMILIES if f.appended}
    assert appended and all(f.split == Split.DEV for f in FAMILIES if f.appended)
    dev = [s for s in scenarios() if s.split == Split.DEV]
    rotation = [s for s in dev if s.system not in appended]
    assert _digest(rotation) == "903767d17eabe537d3527e74a729f97a526c8b9708ff1e50b096800e84141633"
    assert dev[: len(rotation)] == rotation  # the appended family's scenarios come after
    for name in appended:
        own = [s for s in dev if s.system == name]
        assert Counter(s.truth_fault for s in own if s.kind == ScenarioKind.FAULT) == Counter(FAULT_IDS)
        assert sum(s.kind == ScenarioKind.CONTROL for s in own) == 2


def test_pipeline_systems_chain_stages_over_a_shared_database_and_a_queue() -> None:
    """The pipeline shape: 3-5 synchronous stages, a consumed topic, a database used by 3+ services."""
    for seed in range(12):
        system = generate("pipeline", "p", np.random.default_rng(seed), int(6 + 3 * seed), frozenset())
        kinds = {n.name: n.kind for n in system.nodes}
        callers: dict[str, set[str]] = {}
        for e in system.edges:
            if e.protocol != "consume":
                callers.setdefault(e.callee, set()).add(e.caller)
        assert any(kinds[c] == "database" and len(who) >= 3 for c, who in callers.items()), seed
        consumers = [e.caller for e in system.edges if e.protocol == "consume"]
        assert consumers and any(e.protocol == "produce" for e in system.edges), seed
        assert any(kinds[e.callee] == "database" for e in system.edges if e.caller in consumers), seed
        assert 4 <= _depth(system, system.entry) <= 7, seed
        assert len(system.components()) <= 40


def test_the_dogstatsd_family_speaks_its_own_names() -> None:
    s = _first(lambda s: s.conventions == "dogstatsd" and s.kind == ScenarioKind.FAULT)
    series = build_telemetry(s).series
    names = {x.labels["__name__"] for x in series}
    assert {"trace_http_request_hits", "trace_http_request_duration", "trace_http_request"} <= names
    assert "trace_http_client_request_hits" in names
    assert not any(n.startswith(("http_server", "http_client", "db_client", "target_info")) for n in names)
    hits = next(x for x in series if x.labels["__name__"] == "trace_http_request_hits")
    assert {"service", "env", "resource_name", "pod_name"} <= set(hits.labels)
