"""An incident's anomaly fingerprint: which signals moved where, in what order (memory's key)."""

from __future__ import annotations

from typing import Literal

from compass_worker.domain.models import AnomalyStep
from compass_worker.engine.observations import Observations

FINGERPRINT_STEPS = 12


def fingerprint(obs: Observations, start: float) -> tuple[AnomalyStep, ...]:
    """Which signals moved where, in what order: the clearest departures, by onset."""
    steps: list[tuple[float, AnomalyStep]] = []
    for (comp, sig, peer), s in obs.series.items():
        if peer is not None or sig.startswith("log:") or sig == "version_change":
            continue
        a = s.anomaly()
        if a is None or not a.anomalous or a.onset is None or a.strength() < 0.3:
            continue
        direction: Literal["up", "down"] = "down" if s.bad == "down" else "up"
        steps.append(
            (
                a.strength(),
                AnomalyStep(
                    component=comp, signal=sig, direction=direction, onset_s=round(a.onset - start, 1)
                ),
            )
        )
    strongest = sorted(steps, key=lambda x: (-x[0], x[1].component, x[1].signal))[:FINGERPRINT_STEPS]
    return tuple(sorted((s for _, s in strongest), key=lambda s: (s.onset_s or 0.0, s.component, s.signal)))
