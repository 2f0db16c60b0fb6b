"""Gradual onsets: a fault's drivers fade in over minutes instead of the injector's own quick ramp.

The library's injectors write *drivers* (multipliers, error ratios, added latency...) into the simulation.
Taking a snapshot before injection and blending towards the injected values under a slow envelope turns
any of them into a slow-building version of itself without touching the injectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compass_lab.model import FloatArray
from compass_lab.scenarios.simulate import Sim

_COMP = (
    "own_mult",
    "own_add",
    "sigma_add",
    "unavailable",
    "cpu_mult",
    "cpu_extra",
    "tls_fail",
    "surge",
    "pool_pressure",
    "hit_drop",
    "consume_mult",
    "host_slow",
)
_LINK = ("extra_lat", "sigma_add")
_HOST = ("neighbour_cores", "retrans_extra")
_STEADY_SIG = frozenset({"stuck_partition", "base_load"})  # not time-varying drivers

Snapshot = dict[tuple[str, str, str], Any]


def snapshot(sim: Sim) -> Snapshot:
    snap: Snapshot = {}
    for name, comp in sim.comps.items():
        for attr in _COMP:
            snap[("comp", name, attr)] = getattr(comp, attr).copy()
        snap[("comp", name, "own_err")] = {k: v.copy() for k, v in comp.own_err.items()}
        snap[("comp", name, "sig")] = {k: v.copy() for k, v in comp.sig.items()}
    for key, link in sim.links.items():
        lk = f"{key[0]}>{key[1]}"
        for attr in _LINK:
            snap[("link", lk, attr)] = getattr(link, attr).copy()
        snap[("link", lk, "conn_err")] = {k: v.copy() for k, v in link.conn_err.items()}
    for name, host in sim.hosts.items():
        for attr in _HOST:
            snap[("host", name, attr)] = getattr(host, attr).copy()
    return snap


def _blend(before: FloatArray, after: FloatArray, env: FloatArray) -> FloatArray:
    out: FloatArray = before + (after - before) * env
    return out


def _blend_dict(
    before: dict[str, FloatArray], after: dict[str, FloatArray], env: FloatArray, skip: frozenset[str]
) -> None:
    for k, v in after.items():
        if k in skip:
            continue
        after[k] = _blend(before.get(k, np.zeros_like(v)), v, env)


def soften(sim: Sim, before: Snapshot, start: int, length: int) -> None:
    """Blend every driver the injection changed towards its new value over `length` samples from `start`."""
    idx = np.arange(sim.n, dtype=np.float64)
    env: FloatArray = np.clip((idx - start + 1) / max(length, 1), 0.0, 1.0)
    for name, comp in sim.comps.items():
        for attr in _COMP:
            setattr(comp, attr, _blend(before[("comp", name, attr)], getattr(comp, attr), env))
        _blend_dict(before[("comp", name, "own_err")], comp.own_err, env, frozenset())
        _blend_dict(before[("comp", name, "sig")], comp.sig, env, _STEADY_SIG)
    for key, link in sim.links.items():
        lk = f"{key[0]}>{key[1]}"
        for attr in _LINK:
            setattr(link, attr, _blend(before[("link", lk, attr)], getattr(link, attr), env))
        _blend_dict(before[("link", lk, "conn_err")], link.conn_err, env, frozenset())
    for name, host in sim.hosts.items():
        for attr in _HOST:
            setattr(host, attr, _blend(before[("host", name, attr)], getattr(host, attr), env))
