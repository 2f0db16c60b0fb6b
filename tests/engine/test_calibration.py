"""The shown-confidence calibration: monotone, one distribution, ranks kept, identity without a file,
and never a confident-looking inconclusive answer."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from compass_worker.domain.models import RootCause
from compass_worker.engine.calibration import Calibration, load_calibration, parse_calibration
from compass_worker.engine.verdict import INCONCLUSIVE_SHOWN, shown
from compass_worker.errors import ConfigError

# A map that raises everything a lot, as an under-confident engine's fit would.
EAGER = Calibration(((0.0, 0.0), (0.3, 0.8), (0.6, 0.95), (1.0, 1.0)))
GRID = [i / 200 for i in range(201)]


def causes(*confs: float) -> tuple[RootCause, ...]:
    return tuple(
        RootCause(component=f"svc{i}", fault="bad_deploy", confidence=c, summary="")
        for i, c in enumerate(confs)
    )


@pytest.mark.parametrize("cal", [load_calibration(), EAGER], ids=["packaged", "eager"])
def test_the_map_is_monotone_and_stays_in_0_1(cal: Calibration) -> None:
    ys = [cal(x) for x in GRID]
    assert all(0.0 <= y <= 1.0 for y in ys)
    assert all(b >= a for a, b in itertools.pairwise(ys))


def test_the_packaged_map_never_merges_two_confidences() -> None:
    cal = load_calibration()
    ys = [cal(x) for x in GRID]
    assert all(b > a for a, b in itertools.pairwise(ys))


@pytest.mark.parametrize("cal", [load_calibration(), EAGER], ids=["packaged", "eager"])
def test_calibrated_confidences_keep_their_order_and_sum_to_at_most_one(cal: Calibration) -> None:
    rnd = random.Random(7)
    for _ in range(300):
        raw = sorted((rnd.random() for _ in range(rnd.randint(1, 5))), reverse=True)
        share = rnd.uniform(0.5, 1.0) / max(sum(raw), 1.0)  # one distribution, the rest on "none of these"
        raw = [c * share for c in raw]
        for confident in (True, False):
            out = [rc.confidence for rc in shown(causes(*raw), confident, cal)]
            assert out == sorted(out, reverse=True)
            assert sum(out) <= 1.0 + 1e-9


def test_without_a_calibration_file_the_shown_confidences_are_unchanged(tmp_path: Path) -> None:
    cal = load_calibration(tmp_path / "calibration.json")
    assert cal == Calibration()
    assert [cal(x) for x in GRID] == GRID
    ranked = causes(0.812, 0.1, 0.05)
    assert shown(ranked, True, cal) == ranked


def test_an_inconclusive_leader_stays_below_the_confident_line_whatever_the_map() -> None:
    # A control (or any held-back leader) is inconclusive on the raw evidence: no map makes it look sure.
    out = shown(causes(0.6, 0.2), False, EAGER)
    assert out[0].confidence == INCONCLUSIVE_SHOWN < 0.7
    assert out[1].confidence <= out[0].confidence
    confident = shown(causes(0.6, 0.2), True, EAGER)
    assert confident[0].confidence > 0.9  # the same leader, confidently decided, is shown as the map says


def test_a_bad_calibration_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "calibration.json"
    bad.write_text(json.dumps({"knots": [[0.0, 0.5], [0.5, 0.2], [1.0, 1.0]]}))
    with pytest.raises(ConfigError, match="non-decreasing"):
        load_calibration(bad)
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_calibration("{knots")
    with pytest.raises(ConfigError, match="pair of numbers"):
        parse_calibration('{"knots": [[0, "a"], [1, 1]]}')
