"""The scenario library: two splits, each planned from its own seed.

Every fault id appears at least 4 times per split (rotating over components, variants, systems and
conventions), plus ~12% controls. Planning is deterministic; the symptom text needs a (cheap)
simulation, so the catalog is built once per process and cached.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from compass_lab.model import Scenario, ScenarioKind, Split
from compass_lab.scenarios.blueprint import STEP_S, Blueprint, Convention, Distractor, DistractorKind
from compass_lab.scenarios.faults import FAULT_IDS, MIN_LEAD_MIN, Candidate, affected_services, candidates
from compass_lab.scenarios.pipeline import simulate
from compass_lab.scenarios.symptom import choose, hhmm
from compass_lab.scenarios.topology import SYSTEMS, System

PER_FAULT = 4
CONTROLS = 9
_SPLIT_SEED = {Split.DEV: 20260107, Split.HELDOUT: 991_000_213}
_FIRST_DAY = {Split.DEV: "2026-01-05", Split.HELDOUT: "2026-06-02"}
_CONVENTIONS: tuple[Convention, ...] = ("otel", "prom-client", "micrometer")

# Look-alike groups: which faults share a group (the first scenarios of each fault join it).
LOOKALIKES = {
    "db-pool-vs-slow-queries": ("db_connection_pool_exhaustion", "db_slow_queries"),
    "cache-vs-slow-queries": ("cache_failure", "db_slow_queries"),
    "latency-vs-packet-loss": ("dependency_latency", "network_packet_loss"),
    "deploy-vs-config": ("bad_deploy", "config_change"),
}
# `compass demo`: payments-db lock contention in the shop, noticed at checkout, with logs and traces.
DEMO = ("db_slow_queries", "shop", "payments-db", "lock_contention")
DEMO_ORDINAL = 2  # an ordinal outside the look-alike groups
_CONTROL_KINDS: tuple[DistractorKind, ...] = (
    "traffic_bump",
    "deploy",
    "cpu_blip",
    "config_reload",
    "restart",
)


def _day_start(day: str) -> float:
    return float(time.mktime(time.strptime(day + " 00:00:00", "%Y-%m-%d %H:%M:%S")) - time.timezone)


def _pick_candidates(rng: np.random.Generator, fault: str, count: int) -> list[tuple[System, Candidate]]:
    pools = {s: list(candidates(SYSTEMS[s], fault)) for s in sorted(SYSTEMS)}
    for pool in pools.values():
        rng.shuffle(pool)
    out: list[tuple[System, Candidate]] = []
    order = sorted(SYSTEMS)
    if rng.random() < 0.5:
        order.reverse()
    k = 0
    while len(out) < count:
        sys_name = order[k % len(order)]
        pool = pools[sys_name]
        if pool:
            out.append((SYSTEMS[sys_name], pool.pop(0)))
        k += 1
        if k > 100:
            raise RuntimeError(f"not enough candidates for {fault}")
    return out


def _lookalike(fault: str, ordinal: int) -> str | None:
    groups = [g for g, faults in LOOKALIKES.items() if fault in faults]
    return groups[ordinal] if ordinal < len(groups) else None


def _fits_group(system: System, cand: Candidate, group: str | None) -> bool:
    if group == "cache-vs-slow-queries" and system.node(cand.component).kind == "database":
        return cand.component in {e.callee for e in system.edges if e.fallback_of}
    if group == "latency-vs-packet-loss" and cand.component not in system.hosts:
        return system.node(cand.component).kind != "external"  # packet loss never explains a third party
    return True


def _ensure_group_fits(
    rng: np.random.Generator, fault: str, picked: list[tuple[System, Candidate]]
) -> list[tuple[System, Candidate]]:
    """Make the ordinal that joins a look-alike group a candidate that fits it."""
    out = list(picked)
    for ordinal in range(len(out)):
        group = _lookalike(fault, ordinal)
        if group is None or _fits_group(*out[ordinal], group):
            continue
        swap = next((k for k in range(ordinal + 1, len(out)) if _fits_group(*out[k], group)), None)
        if swap is not None:
            out[ordinal], out[swap] = out[swap], out[ordinal]
            continue
        fitting = [
            (SYSTEMS[s], c)
            for s in sorted(SYSTEMS)
            for c in candidates(SYSTEMS[s], fault)
            if _fits_group(SYSTEMS[s], c, group)
        ]
        out[ordinal] = fitting[int(rng.integers(0, len(fitting)))]
    return out


def _distractors(
    rng: np.random.Generator,
    system: System,
    truth: str | None,
    onset_idx: int,
    has_logs: bool,
    count: int,
    avoid: set[str],
) -> list[Distractor]:
    services = [n.name for n in system.services() if n.name != truth and n.name not in avoid]
    kinds: list[DistractorKind] = ["cpu_blip", "deploy", "restart"]
    if has_logs:
        kinds += ["chatty_errors", "config_reload"]
    out: list[Distractor] = []
    used: set[str] = set()
    for _ in range(count):
        kind = kinds[int(rng.integers(0, len(kinds)))]
        comp = str(rng.choice([s for s in services if s not in used]))
        used.add(comp)
        idx = onset_idx + int(rng.integers(-40, 6))
        length = int(rng.integers(8, 16))
        out.append(Distractor(kind, comp, idx, length, float(rng.uniform(0.3, 1.0)), ""))
    return out


def _describe(d: Distractor, start: float) -> str:
    t = hhmm(start + d.idx * STEP_S)
    return {
        "cpu_blip": f"unrelated CPU spike on {d.component} at {t} (~{d.length // 4} min, under its limit)",
        "deploy": f"harmless rollout of {d.component} at {t}",
        "restart": f"unrelated restart of one {d.component} pod at {t}",
        "chatty_errors": f"pre-existing, unrelated error logs on {d.component} all along",
        "config_reload": f"benign feature-flag change on {d.component} at {t}",
        "traffic_bump": f"benign traffic bump on {d.component} from {t}",
    }[d.kind]


def _symptom_candidates(
    rng: np.random.Generator, system: System, truth: str, fault: str, affected: list[str]
) -> tuple[str, ...]:
    roots = affected if truth in system.hosts or truth == "coredns" else [truth]
    ups: list[str] = []
    for r in roots:
        for a in system.ancestors(r):
            if a not in ups and system.node(a).is_service:
                ups.append(a)
    own = [r for r in roots if r in {n.name for n in system.services()}]
    if fault == "queue_backlog":
        return tuple(a for a in ups if system.node(a).tech == "worker")
    prefs = list(ups)
    rng.shuffle(prefs)
    # usually an upstream component is where people notice; sometimes the culprit itself alerts
    prefs = own + prefs if own and (not prefs or rng.random() < 0.15) else prefs + own
    return tuple(prefs)


def _plan(split: Split) -> list[tuple[Scenario, Blueprint]]:
    rng = np.random.default_rng(_SPLIT_SEED[split])
    items: list[tuple[str | None, System, Candidate | None, int]] = []
    for fault in FAULT_IDS:
        picked = _ensure_group_fits(rng, fault, _pick_candidates(rng, fault, PER_FAULT))
        if split == Split.DEV and fault == DEMO[0]:  # the demo incident is a fixed, vivid one
            picked[DEMO_ORDINAL] = (SYSTEMS[DEMO[1]], Candidate(DEMO[2], DEMO[3]))
        for ordinal, (system, cand) in enumerate(picked):
            items.append((fault, system, cand, ordinal))
    systems = sorted(SYSTEMS)
    for k in range(CONTROLS):
        items.append((None, SYSTEMS[systems[k % len(systems)]], None, k))
    order = rng.permutation(len(items))
    day0 = _day_start(_FIRST_DAY[split])
    out: list[tuple[Scenario, Blueprint]] = []
    for number, item_idx in enumerate(order):
        item_fault, item_system, item_cand, item_ordinal = items[int(item_idx)]
        out.append(_scenario(rng, split, number, day0, item_fault, item_system, item_cand, item_ordinal))
    return out


def _scenario(
    rng: np.random.Generator,
    split: Split,
    number: int,
    day0: float,
    fault: str | None,
    system: System,
    cand: Candidate | None,
    ordinal: int,
) -> tuple[Scenario, Blueprint]:
    seed = int(rng.integers(1, 2**31 - 1))
    at = day0 + number * 86400.0 + float(rng.integers(7 * 240, 22 * 240)) * STEP_S
    lead_min = float(rng.uniform(MIN_LEAD_MIN.get(fault or "", 5), 20))
    demo = split == Split.DEV and ordinal == DEMO_ORDINAL and cand == Candidate(DEMO[2], DEMO[3])
    onset = at - round(lead_min * 4) * STEP_S
    convention: Convention = _CONVENTIONS[int(rng.choice(3, p=[0.4, 0.35, 0.25]))]
    has_logs = bool(rng.random() < 0.8) or fault == "config_change" or demo
    has_traces = bool(rng.random() < 0.78) or demo
    magnitude = float(rng.uniform(0.3, 1.0))
    if demo:
        convention, magnitude = "otel", max(magnitude, 0.6)
    start = at - 4 * 3600.0
    onset_idx = round((onset - start) / STEP_S)
    kind = ScenarioKind.FAULT if fault else ScenarioKind.CONTROL
    sid = f"{system.name}-{split.value}-{number:03d}-{fault or 'control'}"
    group = _lookalike(fault, ordinal) if fault else None
    if cand is not None and group and not _fits_group(system, cand, group):
        group = None
    truth = cand.component if cand else None
    n_red = 1 + int(rng.random() < 0.5)
    control_kind = ""
    # a restart of the consumer would itself bump the lag just before onset: keep herrings off it
    avoid = {e.caller for e in system.edges if e.protocol == "consume" and e.callee == truth}
    distractors = _distractors(rng, system, truth, onset_idx, has_logs, n_red, avoid)
    if fault is None:
        event_kind: DistractorKind = _CONTROL_KINDS[ordinal % len(_CONTROL_KINDS)]
        control_kind = event_kind
        if control_kind in ("config_reload",) and not has_logs:
            event_kind = control_kind = "deploy"
        target = (
            system.entry
            if control_kind == "traffic_bump"
            else str(
                rng.choice(
                    [n.name for n in system.services() if n.name not in {d.component for d in distractors}]
                )
            )
        )
        main = Distractor(
            event_kind,
            target,
            onset_idx,
            int(rng.integers(40, 90)) if control_kind == "traffic_bump" else int(rng.integers(8, 14)),
            float(rng.uniform(0.3, 0.7)),
            "",
        )
        distractors = [main, *distractors[:1]]
    bp = Blueprint(
        scenario_id=sid,
        split=split,
        system=system,
        seed=seed,
        fault=fault,
        component=truth,
        variant=cand.variant if cand else "",
        magnitude=magnitude,
        convention=convention,
        has_logs=has_logs,
        has_traces=has_traces,
        at=at,
        onset=onset if fault else None,
        control_kind=control_kind,
        control_idx=onset_idx,
        distractors=tuple(distractors),
        lookalike_group=group,
        symptom_candidates=(),
    )
    sim = simulate(bp)
    # everything read off the simulation draws from its own stream, so the plan of later scenarios
    # never depends on simulated values
    local = np.random.default_rng([seed, 7])
    if fault is None:
        main = distractors[0]
        symptom_component = main.component
        text = _control_symptom(local, main, bp)
    else:
        affected = affected_services(sim, bp) if truth in system.hosts or truth == "coredns" else []
        prefs = _symptom_candidates(local, system, str(truth), fault, affected)
        if demo:
            prefs = ("checkout", *prefs)
        bp = _with_candidates(bp, prefs)
        symptom = choose(sim, bp, local)
        symptom_component = symptom.component
        text = symptom.text
    reds = tuple(_describe(d, start) for d in bp.distractors[(1 if fault is None else 0) :])
    title = (
        f"{fault} on {truth} ({bp.variant}), seen as: {text}"
        if fault
        else f"control ({control_kind} on {bp.distractors[0].component}): {text}"
    )
    scenario = Scenario(
        id=sid,
        split=split,
        system=system.name,
        seed=seed,
        kind=kind,
        title=title,
        symptom=text,
        symptom_component=symptom_component,
        at=at,
        window_s=3600,
        onset=bp.onset,
        truth_component=truth,
        truth_fault=fault,
        components=system.components(),
        conventions=convention,
        has_logs=has_logs,
        has_traces=has_traces,
        red_herrings=reds,
        lookalike_group=group,
    )
    return scenario, bp


def _with_candidates(bp: Blueprint, prefs: tuple[str, ...]) -> Blueprint:
    from dataclasses import replace

    return replace(bp, symptom_candidates=prefs)


def _control_symptom(rng: np.random.Generator, main: Distractor, bp: Blueprint) -> str:
    t = hhmm(bp.start + main.idx * STEP_S)
    c = main.component
    options = {
        "traffic_bump": (
            f"{c} request rate up ~{main.magnitude * 100:.0f}% since {t}, is something wrong?",
            f"{c} traffic spike since {t}",
        ),
        "deploy": (f"{c} was deployed at {t}, did it break anything?", f"anything wrong with {c} since {t}?"),
        "cpu_blip": (f"{c} CPU alert fired at {t}", f"{c} CPU spiking since {t}"),
        "config_reload": (
            f"{c} feature flag flipped at {t}, any impact?",
            f"did the {c} config change at {t} break it?",
        ),
        "restart": (f"{c} pod restarted at {t}, are users affected?", f"{c} restarted at {t}"),
    }[main.kind]
    return options[int(rng.integers(0, len(options)))]


@functools.cache
def catalog(split: Split) -> tuple[tuple[Scenario, Blueprint], ...]:
    return tuple(_plan(split))
