"""Calibration of the shown confidence: a monotone map fitted offline on the dev sets' outputs.

The scores behind the confidences are sums of hand-set weights, so a leader shown at 0.6 may in fact
be right far more (or less) often than 60 % of the time. `calibration.json` (written by
`scripts/fit_calibration.py` from dev benchmark rows only, with its provenance) holds knots of a
non-decreasing piecewise-linear map from the shown top-1 confidence to how often such a leader was
right. The map is applied to every cause of an answer, so ranks never change; if the mapped values
would add up to more than 1, the causes after the leader give up their share proportionally, and the
remainder stays on "none of these". Without the file the map is the identity.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from compass_worker.errors import ConfigError

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """A non-decreasing piecewise-linear map on [0, 1]; no knots is the identity."""

    knots: tuple[tuple[float, float], ...] = ()
    provenance: str = ""

    def __call__(self, c: float) -> float:
        if not self.knots:
            return c
        c = min(max(c, 0.0), 1.0)
        xs, ys = [k[0] for k in self.knots], [k[1] for k in self.knots]
        if c <= xs[0]:
            return ys[0]
        for (x0, y0), (x1, y1) in itertools.pairwise(self.knots):
            if c <= x1:
                return y0 + (y1 - y0) * (c - x0) / (x1 - x0)
        return ys[-1]

    def distribution(self, confs: Sequence[float]) -> list[float]:
        """Each confidence through the map; the order is kept and the sum stays at most 1 (the causes
        after the leader shrink together when it would not)."""
        out = [self(c) for c in confs]
        if not out or sum(out) <= 1.0:
            return out
        top = max(range(len(out)), key=lambda i: out[i])
        rest = sum(out) - out[top]
        scale = max(0.0, 1.0 - out[top]) / rest if rest > 0 else 0.0
        return [y if i == top else y * scale for i, y in enumerate(out)]


def _knots(data: Any, where: str) -> tuple[tuple[float, float], ...]:
    raw = data.get("knots") if isinstance(data, dict) else None
    if not isinstance(raw, list) or len(raw) < 2:
        raise ConfigError(f"{where}: 'knots' must be a list of at least two [x, y] pairs")
    try:
        knots = tuple((float(x), float(y)) for x, y in raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: every knot must be a pair of numbers") from exc
    in_range = all(0.0 <= v <= 1.0 for k in knots for v in k)
    increasing = all(b[0] > a[0] and b[1] >= a[1] for a, b in itertools.pairwise(knots))
    if not (in_range and increasing):
        # A map that is not monotone would reorder the causes: refuse it rather than mis-rank.
        raise ConfigError(f"{where}: knots must lie in [0, 1], x increasing and y non-decreasing")
    return knots


def parse_calibration(text: str, where: str = CALIBRATION_FILE) -> Calibration:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    fit = data.get("fit", {}) if isinstance(data, dict) else {}
    provenance = ", ".join(f"{k}={v}" for k, v in fit.items()) if isinstance(fit, dict) else ""
    return Calibration(_knots(data, where), provenance)


def load_calibration(path: Path | None = None) -> Calibration:
    """The map in `path`, or the packaged `calibration.json`; the identity when there is none."""
    if path is not None:
        return parse_calibration(path.read_text("utf-8"), str(path)) if path.is_file() else Calibration()
    packaged = resources.files("compass_worker.engine").joinpath(CALIBRATION_FILE)
    return parse_calibration(packaged.read_text("utf-8")) if packaged.is_file() else Calibration()


@functools.cache
def shown_calibration() -> Calibration:
    """The packaged map, read once per process."""
    return load_calibration()
