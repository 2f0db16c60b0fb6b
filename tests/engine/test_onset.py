"""Onset detection: robust to baseline noise and spikes, precise on steps and ramps."""

import numpy as np
import pytest

from compass_worker.engine.onset import analyse

T0 = 1_800_000_000.0


def _series(values: np.ndarray) -> tuple[list[float], list[float]]:
    return [T0 + 30 * i for i in range(values.size)], values.tolist()


def test_step_change_onset_found_within_one_step() -> None:
    rng = np.random.default_rng(1)
    x = 0.2 + rng.normal(0, 0.01, 120)
    x[80:] += 0.5
    ts, vs = _series(x)
    a = analyse(ts, vs, "up")
    assert a is not None and a.anomalous
    assert a.onset is not None and abs(a.onset - ts[80]) <= 30
    assert a.z_peak > 20


def test_single_spike_is_not_an_onset() -> None:
    rng = np.random.default_rng(2)
    x = 1.0 + rng.normal(0, 0.05, 120)
    x[90] = 5.0
    ts, vs = _series(x)
    a = analyse(ts, vs, "up")
    assert a is not None and not a.anomalous


def test_noisy_baseline_with_spikes_does_not_inflate_z() -> None:
    rng = np.random.default_rng(3)
    x = 1.0 + rng.normal(0, 0.05, 120)
    x[5:40:7] = 3.0  # spiky baseline
    ts, vs = _series(x)
    a = analyse(ts, vs, "up")
    assert a is not None and not a.anomalous


def test_direction_down_detects_drops_only() -> None:
    x = np.ones(100)
    x[70:] = 0.0
    ts, vs = _series(x)
    down = analyse(ts, vs, "down", abs_floor=0.05)
    up = analyse(ts, vs, "up", abs_floor=0.05)
    assert down is not None and down.anomalous and down.peak == 0.0
    assert up is not None and not up.anomalous


def test_ramp_onset_walks_back_to_where_the_rise_started() -> None:
    x = np.concatenate([np.full(60, 100.0), 100.0 + np.arange(60) * 5.0])
    x += np.random.default_rng(4).normal(0, 1.0, x.size)
    ts, vs = _series(x)
    a = analyse(ts, vs, "up")
    assert a is not None and a.anomalous
    assert a.onset is not None and ts[58] <= a.onset <= ts[66]


def test_nan_points_are_ignored_and_short_series_rejected() -> None:
    x = np.full(100, np.nan)
    x[:5] = 1.0
    ts, vs = _series(x)
    assert analyse(ts, vs, "up") is None


@pytest.mark.parametrize("baseline_until_idx", [40, 60])
def test_explicit_baseline_cut(baseline_until_idx: int) -> None:
    x = np.zeros(100)
    x[75:] = 10.0
    ts, vs = _series(x)
    a = analyse(ts, vs, "up", baseline_until=ts[baseline_until_idx], abs_floor=0.5)
    assert a is not None and a.onset == pytest.approx(ts[75])


def _blips(post_peak: float, subsided: bool) -> tuple[list[float], list[float]]:
    """A flat latency with one slow minute in the baseline (two points at a 30 s step) and one after."""
    x = np.full(120, 0.024)
    x[20:22] = 0.41
    x[90:93] = post_peak
    if not subsided:
        x[90:] = post_peak
    return _series(x)


def test_a_subsided_blip_no_higher_than_the_baselines_own_is_not_an_onset() -> None:
    """A periodic slow minute seen again is the series' usual tail, not a change that began."""
    a = analyse(*_blips(0.44, subsided=True), "up", baseline_until=T0 + 30 * 60)
    assert a is not None and not a.anomalous and a.z_peak > 100


def test_a_blip_still_going_or_far_beyond_the_baselines_is_an_onset() -> None:
    ongoing = analyse(*_blips(0.44, subsided=False), "up", baseline_until=T0 + 30 * 60)
    assert ongoing is not None and ongoing.anomalous
    larger = analyse(*_blips(2.0, subsided=True), "up", baseline_until=T0 + 30 * 60)
    assert larger is not None and larger.anomalous
