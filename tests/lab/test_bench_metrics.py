"""The benchmark's calibration figures: ECE, the reliability table, rank/confidence disagreements."""

import math

from compass_lab.bench.metrics import Row, summarise
from compass_lab.bench.report import render


def row(sid: str, truth: tuple[str, str] | None, *ranked: tuple[str, str, float]) -> Row:
    comp, fault = truth if truth else (None, None)
    return Row(sid, "dev", fault, comp, "root_cause", tuple(ranked), 1.0, 2.0, 10)


def test_a_perfectly_calibrated_set_has_no_calibration_error() -> None:
    rows = [row(f"r{i}", ("a", "f"), ("a", "f", 0.95)) for i in range(19)]
    rows.append(row("wrong", ("a", "f"), ("b", "f", 0.95)))
    s = summarise(rows)
    assert math.isclose(s.ece, 0.0, abs_tol=1e-9)
    (only,) = s.reliability
    assert (only["lo"], only["hi"], only["n"]) == (0.9, 1.0, 20.0)
    assert math.isclose(only["confidence"], 0.95) and math.isclose(only["accuracy"], 0.95)


def test_confident_wrong_answers_and_controls_raise_the_error() -> None:
    rows = [
        row("right", ("a", "f"), ("a", "f", 0.9)),
        row("wrong", ("a", "f"), ("b", "g", 0.9)),
        row("control", None, ("c", "h", 0.3)),
    ]
    s = summarise(rows)
    # bin [0.9, 1.0]: 2 answers, confidence 0.9, accuracy 0.5; bin [0.3, 0.4): a control, never right
    assert math.isclose(s.ece, 2 / 3 * 0.4 + 1 / 3 * 0.3)
    assert "ECE" in render({"dev": s}) and "confidence bin" in render({"dev": s})


def test_ranks_that_disagree_with_confidences_or_sum_past_one_are_counted() -> None:
    rows = [
        row("ordered", ("a", "f"), ("a", "f", 0.6), ("b", "g", 0.3)),
        row("inverted", ("a", "f"), ("a", "f", 0.3), ("b", "g", 0.6)),
        row("overfull", ("a", "f"), ("a", "f", 0.95), ("b", "g", 0.24)),
    ]
    assert summarise(rows).incoherent == 2
