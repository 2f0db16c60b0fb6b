"""How clearly a component (or a caller→callee edge) went bad, and when: the localisation's inputs."""

from __future__ import annotations

import math

from compass_worker.engine.observations import Observations, SignalSeries
from compass_worker.engine.onset import ONSET_Z, Anomaly

# Health score from which a component counts as gone bad: worth hypotheses (orient), and worth a log
# check for a fault no metric can test (decide).
UNHEALTHY = 0.2
# Host signals that a host's residents cannot cause by their own load (unlike host CPU).
LOWER_LAYER = frozenset({"tcp_retransmit_ratio", "disk_free_ratio"})


def hurt(
    obs: Observations,
    comp: str,
    signals: tuple[str, ...],
    key_onset: float | None,
    baseline_until: float | None,
    within_s: float | None = None,
    level_at: float | None = None,
) -> bool | None:
    """Did the component (or, for a host, what runs on it) go bad after the cause? `within_s` counts
    from `level_at` when the cause reached its level later than it began (a CPU ramping up to its
    limit over minutes hurts once there). None: cannot tell —
    no such signal, or one that clearly rose with the cause but whose baseline is too noisy to call it a
    departure (a bimodal p95, an earlier episode inside the baseline): that is no proof of "no impact"."""
    targets = [comp, *sorted(obs.hosts.get(comp, set()))] if obs.kind_of(comp) == "host" else [comp]
    seen = False
    rose = False
    for target in targets:
        for sig in signals:
            for s in [obs.get(target, sig), *obs.outbound(target, sig)]:
                if s is None:
                    continue
                seen = True
                a = s.anomaly(None, baseline_until)
                if a is not None and not rose:
                    rose = _rose_with(s, a, key_onset, within_s)
                if a is None or not a.anomalous or a.strength() < 0.3:
                    continue
                if key_onset is None or a.onset is None:
                    return True
                start = key_onset if level_at is None else max(key_onset, level_at)
                late_ok = within_s is None or a.onset <= start + within_s
                if a.onset >= key_onset - 120.0 and late_ok:
                    return True
    if rose:
        return None
    return False if seen else None


ROSE_RATIO = 2.0  # a rise to this multiple of the baseline's median...
ROSE_POINTS = 3  # ...held this many consecutive samples (a minute or more at a 30 s step)


def _rose_with(s: SignalSeries, a: Anomaly, key_onset: float | None, within_s: float | None) -> bool:
    """The series (bad when up) held at ≥ ROSE_RATIO × its baseline median from the cause's onset on."""
    if s.bad != "up" or key_onset is None or not a.baseline > 0:
        return False
    end = key_onset + within_s if within_s is not None else math.inf
    run = 0
    for t, v in zip(s.timestamps, s.values, strict=False):
        if t < key_onset - 120.0 or t > end:
            continue
        run = run + 1 if math.isfinite(v) and v >= ROSE_RATIO * a.baseline else 0
        if run >= ROSE_POINTS:
            return True
    return False


def _over(s: SignalSeries, a: Anomaly) -> bool:
    """The series is back within its baseline's usual range at its last sample."""
    moved = a.last - a.baseline
    towards_bad = -moved if s.bad == "down" else abs(moved) if s.bad == "either" else moved
    return towards_bad / a.scale < ONSET_Z if a.scale > 0 else towards_bad <= 0


EDGE_SIGNALS = ("client_latency", "client_error_ratio", "client_throttled")


def edge_measured(obs: Observations, caller: str, callee: str) -> bool:
    """Some metric measures the caller's calls to the callee (their latency, errors or throttling)."""
    return any((caller, sig, callee) in obs.series for sig in EDGE_SIGNALS)


def edge_health(
    obs: Observations, caller: str, callee: str, baseline_until: float | None
) -> tuple[float, float | None]:
    """How clearly the caller's calls to the callee went bad (latency, errors, throttling), and when."""
    best, onset = 0.0, None
    for sig in EDGE_SIGNALS:
        s = obs.series.get((caller, sig, callee))
        a = s.anomaly(None, baseline_until) if s else None
        if a is not None and a.anomalous and a.strength() > best:
            best, onset = a.strength(), a.onset
    return best, onset


def health(
    obs: Observations,
    comp: str,
    baseline_until: float | None,
    only: frozenset[str] | None = None,
    trouble_only: bool = False,
    over_before: float | None = None,
) -> tuple[float, float | None]:
    """How clearly a component's own signals went bad (0..1) and when (earliest strong onset).
    `trouble_only`: leave out the log lines of a fault's own pattern (`log:<fault>:<i>`, a config
    reload, a rollout): they say when a cause began, not when the component began to fail. And when
    a metric dates the trouble, error-line counts do not: a few lines a minute of baseline noise
    ("context canceled") cross the threshold early, a rate of failed requests does not.
    `over_before`: leave out an episode that began before this time and was over by the last sample
    (an earlier, ended trouble is not the trouble that began then)."""
    best, onset, log_onset = 0.0, None, None
    for (c, sig, peer), s in obs.series.items():
        if c != comp or peer is not None or sig in ("requests", "version_change"):
            continue
        if trouble_only and sig.startswith("log:"):
            continue
        if only is not None and sig not in only:
            continue
        a = s.anomaly(None, baseline_until)
        if a is None or not a.anomalous:
            continue
        if over_before is not None and a.onset is not None and a.onset < over_before and _over(s, a):
            continue
        st = a.strength()
        if st > best:
            best = st
        if st >= 0.3 and a.onset is not None:
            if trouble_only and sig == "log_errors":
                log_onset = a.onset if log_onset is None else min(log_onset, a.onset)
            else:
                onset = a.onset if onset is None else min(onset, a.onset)
    return best, onset if onset is not None else log_onset


FLEET_MIN_HOSTS = 3  # fewer nodes than this cannot show a fleet-wide move
FLEET_SHARE = 0.8  # this share of the nodes' CPUs rising together is one fleet-wide change


def fleet_wide_cpu(obs: Observations, baseline_until: float | None) -> bool:
    """Most nodes' CPU rose in the window (at least `FLEET_SHARE` of three or more): a change across the
    fleet (load moved, a scheduler, the monitoring itself), not one node in trouble. A noisy neighbour
    heats its own node; it does not heat every node."""
    cpus = [s for (c, sig, peer), s in obs.series.items() if sig == "host_cpu" and peer is None]
    if len(cpus) < FLEET_MIN_HOSTS:
        return False
    rose = 0
    for s in cpus:
        a = s.anomaly("up", baseline_until)
        rose += a is not None and a.anomalous and a.strength() >= 0.5
    return rose >= FLEET_SHARE * len(cpus)
