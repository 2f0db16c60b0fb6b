"""Red herrings and the benign events of control scenarios.

Each is something that really happens in production near incidents and tempts a naive
investigator: an unrelated CPU spike, a harmless rollout, a pod restart, chatty pre-existing
errors, a benign config reload, a traffic bump that the system absorbs.
"""

from __future__ import annotations

import numpy as np

from compass_lab.scenarios.blueprint import Distractor
from compass_lab.scenarios.faults import rollout
from compass_lab.scenarios.signals import pulse
from compass_lab.scenarios.simulate import Sim
from compass_lab.scenarios.state import Event
from compass_lab.scenarios.topology import expected_rates

BENIGN_FLAGS = ("ui.dark-mode", "reco.carousel-v2", "search.typo-tolerance", "promo.banner-spring")


def apply(sim: Sim, d: Distractor, rng: np.random.Generator) -> None:
    n = sim.n
    if d.kind == "traffic_bump":
        sim.entry_mult = sim.entry_mult * (1.0 + d.magnitude * pulse(n, d.idx, d.length, rise=6))
        return
    comp = sim.comps[d.component]
    if d.kind == "cpu_blip":
        node = comp.node
        base = node.cpu_idle + node.cpu_per_rps * expected_rates(sim.system)[d.component] / node.replicas
        extra = max(node.cpu_limit * (0.6 + 0.1 * d.magnitude) - 1.4 * base, 0.15 * node.cpu_limit)
        comp.cpu_extra = comp.cpu_extra + extra * pulse(n, d.idx, d.length, rise=1)  # stays under the limit
    elif d.kind == "deploy":
        rollout(sim, d.component, d.idx, rng)
    elif d.kind == "restart":
        pod = comp.pods[int(rng.integers(0, len(comp.pods)))]
        pod.restarts.append((d.idx, "Error"))
        pod.down.append((d.idx, d.idx + 2))
        sim.events.append(Event("restart", d.component, d.idx, (("pod", pod.name),)))
    elif d.kind == "chatty_errors":
        sim.events.append(Event("chatty", d.component, 0))
    elif d.kind == "config_reload":
        flag = BENIGN_FLAGS[int(rng.integers(0, len(BENIGN_FLAGS)))]
        sim.events.append(
            Event(
                "config_reload",
                d.component,
                d.idx,
                (("flag", flag), ("old", "false"), ("new", "true"), ("harmful", "no")),
            )
        )
