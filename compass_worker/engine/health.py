"""How clearly a component (or a caller→callee edge) went bad, and when: the localisation's inputs."""

from __future__ import annotations

from compass_worker.engine.observations import Observations

# Host signals that a host's residents cannot cause by their own load (unlike host CPU).
LOWER_LAYER = frozenset({"tcp_retransmit_ratio", "disk_free_ratio"})


def hurt(
    obs: Observations,
    comp: str,
    signals: tuple[str, ...],
    key_onset: float | None,
    baseline_until: float | None,
    within_s: float | None = None,
) -> bool | None:
    """Did the component (or, for a host, what runs on it) go bad after the cause? None: cannot tell."""
    targets = [comp, *sorted(obs.hosts.get(comp, set()))] if obs.kind_of(comp) == "host" else [comp]
    seen = False
    for target in targets:
        for sig in signals:
            for s in [obs.get(target, sig), *obs.outbound(target, sig)]:
                if s is None:
                    continue
                seen = True
                a = s.anomaly(None, baseline_until)
                if a is None or not a.anomalous or a.strength() < 0.3:
                    continue
                if key_onset is None or a.onset is None:
                    return True
                late_ok = within_s is None or a.onset <= key_onset + within_s
                if a.onset >= key_onset - 120.0 and late_ok:
                    return True
    return False if seen else None


def edge_health(
    obs: Observations, caller: str, callee: str, baseline_until: float | None
) -> tuple[float, float | None]:
    """How clearly the caller's calls to the callee went bad (latency, errors), and when."""
    best, onset = 0.0, None
    for sig in ("client_latency", "client_error_ratio"):
        s = obs.series.get((caller, sig, callee))
        a = s.anomaly(None, baseline_until) if s else None
        if a is not None and a.anomalous and a.strength() > best:
            best, onset = a.strength(), a.onset
    return best, onset


def health(
    obs: Observations, comp: str, baseline_until: float | None, only: frozenset[str] | None = None
) -> tuple[float, float | None]:
    """How clearly a component's own signals went bad (0..1) and when (earliest strong onset)."""
    best, onset = 0.0, None
    for (c, sig, peer), s in obs.series.items():
        if c != comp or peer is not None or sig in ("requests", "version_change"):
            continue
        if only is not None and sig not in only:
            continue
        a = s.anomaly(None, baseline_until)
        if a is None or not a.anomalous:
            continue
        st = a.strength()
        if st > best:
            best = st
        if st >= 0.3 and a.onset is not None:
            onset = a.onset if onset is None else min(onset, a.onset)
    return best, onset
