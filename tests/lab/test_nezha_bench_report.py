"""The bench's per-group breakdown (per system, per Nezha inject type): figures per group, baseline beside."""

from __future__ import annotations

from compass_lab.bench.metrics import Row
from compass_lab.bench.report import breakdown, render_breakdown


def _row(
    sid: str, truth: tuple[str, str] | None, ranked: list[tuple[str, str]], baro: tuple[str, ...]
) -> Row:
    return Row(
        sid,
        "dev",
        truth[1] if truth else None,
        truth[0] if truth else None,
        "root_cause" if ranked else "inconclusive",
        tuple((c, f, 0.5) for c, f in ranked),
        1.0,
        2.0,
        10,
        baro=baro,
    )


ROWS = [
    _row("ob-1", ("cart", "cpu_saturation"), [("cart", "cpu_saturation")], ("cart",)),
    _row(
        "ob-2",
        ("cart", "dependency_latency"),
        [("frontend", "dependency_latency"), ("cart", "x")],
        ("a", "cart"),
    ),
    _row("tt-1", ("route", "dependency_latency"), [("ui", "dependency_latency")], ("route",)),
    _row("tt-ctl", None, [], ()),
]
SYSTEM = {
    "ob-1": "online-boutique",
    "ob-2": "online-boutique",
    "tt-1": "train-ticket",
    "tt-ctl": "train-ticket",
}


def test_breakdown_summarises_each_group() -> None:
    groups = breakdown(ROWS, lambda r: SYSTEM[r.scenario_id])
    assert list(groups) == ["online-boutique", "train-ticket"]
    ob, tt = groups["online-boutique"], groups["train-ticket"]
    assert (ob.n_faults, ob.joint_at1, ob.service_at1, ob.service_at3, ob.baro_at1, ob.baro_at3) == (
        2,
        0.5,
        0.5,
        1.0,
        0.5,
        1.0,
    )
    assert (tt.n_faults, tt.n_controls, tt.joint_at1, tt.baro_at1, tt.controls_inconclusive) == (
        1,
        1,
        0.0,
        1.0,
        1.0,
    )


def test_render_breakdown_prints_one_line_per_group() -> None:
    text = render_breakdown("per system", breakdown(ROWS, lambda r: SYSTEM[r.scenario_id]))
    lines = text.strip().splitlines()
    assert lines[0] == "--- per system"
    assert lines[1].split() == ["n", "AC@1", "AC@3", "svc@1", "svc@3", "BARO@1", "BARO@3", "FC", "ECE"]
    assert lines[2].split()[:8] == ["online-boutique", "2", "0.50", "0.50", "0.50", "1.00", "0.50", "1.00"]
    assert len(lines[2].split()) == 10  # then the false-confident rate and the calibration error
    assert lines[3].split()[:8] == ["train-ticket", "1", "0.00", "0.00", "0.00", "0.00", "1.00", "1.00"]
    assert lines[3].endswith("controls inconclusive  1.00")
