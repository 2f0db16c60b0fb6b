"""Generator families: a naming-convention family paired with a topology shape, and the split it serves.

Dev families are what the engine may be tuned on; held-out families use conventions and shapes that no
dev family uses, so that held-out scores measure generalisation, not memory. A scenario's `system` is its
family's name, so results can be reported per family.

A family marked `appended` is planned after the split's rotation (every fault once, plus its controls),
so adding one leaves every earlier scenario of the split exactly as it was: figures before and after
compare scenario for scenario, and the held-out plan cannot move.
"""

from __future__ import annotations

from dataclasses import dataclass

from compass_lab.model import Split
from compass_lab.randomised.shapes import Shape


@dataclass(frozen=True)
class Family:
    name: str
    convention: str  # a key of `conventions.CONVENTIONS`
    shape: Shape
    split: Split
    appended: bool = False  # planned after the rotation of the split's other families


FAMILIES: tuple[Family, ...] = (
    Family("otel-layered", "otel", "layered", Split.DEV),
    Family("promclient-fanout", "prom-client", "fanout", Split.DEV),
    Family("otellegacy-fanout", "otel-legacy-ms", "fanout", Split.DEV),
    Family("statsd-layered", "statsd-mapper", "layered", Split.DEV),
    Family("opencensus-diamond", "opencensus", "diamond", Split.DEV),
    Family("datadog-pipeline", "dogstatsd", "pipeline", Split.DEV, appended=True),
    Family("micrometer-chain", "micrometer", "chain", Split.HELDOUT),
    Family("envoy-hub", "envoy-mesh", "hub", Split.HELDOUT),
    Family("linkerd-chain", "linkerd-proxy", "chain", Split.HELDOUT),
    Family("apm-hub", "apm-agent", "hub", Split.HELDOUT),
)


def families(split: Split) -> tuple[Family, ...]:
    return tuple(f for f in FAMILIES if f.split == split)


def family(name: str) -> Family:
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(name)
