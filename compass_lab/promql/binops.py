"""Binary operators: arithmetic, comparisons (with `bool`), set operators and vector matching."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from compass_lab.promql.errors import PromQLError
from compass_lab.promql.labels import (
    METRIC_NAME,
    Labels,
    drop_labels,
    drop_name,
    format_labels,
    get_label,
    keep_only,
    with_label,
)
from compass_lab.promql.values import BoolArray, FloatArray, IntArray, ScalarValue, VectorValue, merge_rows

ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "^", "atan2"})
COMPARISON = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS = frozenset({"and", "or", "unless"})
Card = Literal["one-to-one", "many-to-one", "one-to-many", "many-to-many"]


@dataclass(frozen=True)
class Matching:
    card: Card
    on: bool
    labels: tuple[str, ...]
    include: tuple[str, ...]
    return_bool: bool


def elementwise(op: str, lhs: FloatArray, rhs: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Prometheus' vectorElemBinop: (value, keep); comparisons keep the left value."""
    with np.errstate(all="ignore"):
        if op == "+":
            return lhs + rhs, np.ones(np.broadcast(lhs, rhs).shape, dtype=np.bool_)
        if op in ARITHMETIC:
            fn = {"-": np.subtract, "*": np.multiply, "/": np.divide, "%": np.fmod, "^": np.power}
            val = np.arctan2(lhs, rhs) if op == "atan2" else fn[op](lhs, rhs)
            return np.asarray(val, dtype=np.float64), np.ones(np.shape(val), dtype=np.bool_)
        cmp = {
            "==": np.equal,
            "!=": np.not_equal,
            ">": np.greater,
            "<": np.less,
            ">=": np.greater_equal,
            "<=": np.less_equal,
        }[op]
        keep = np.asarray(cmp(lhs, rhs), dtype=np.bool_)
        return np.broadcast_to(lhs, keep.shape).astype(np.float64), keep


def scalar_scalar(op: str, lhs: ScalarValue, rhs: ScalarValue, return_bool: bool) -> ScalarValue:
    value, keep = elementwise(op, lhs.values, rhs.values)
    if op in COMPARISON:
        value = keep.astype(np.float64)  # the parser only allows comparisons of scalars with `bool`
    return ScalarValue(value)


def vector_scalar(
    op: str, vec: VectorValue, scalar: ScalarValue, swap: bool, return_bool: bool
) -> VectorValue:
    s = scalar.values[None, :]
    value, keep = elementwise(op, s, vec.values) if swap else elementwise(op, vec.values, s)
    if op in COMPARISON and swap:
        value = vec.values  # the vector's value survives a filter even when it is the right operand
    if return_bool:
        value, keep = keep.astype(np.float64), np.ones_like(keep)
    labels = list(vec.labels)
    if op in ARITHMETIC or return_bool:
        labels = [drop_name(lab) for lab in labels]
    return merge_rows(labels, np.asarray(value, dtype=np.float64), vec.present & keep)


def _signature(labels: Labels, m: Matching) -> Labels:
    names = frozenset(m.labels)
    return keep_only(labels, names) if m.on else drop_labels(labels, names | {METRIC_NAME})


def _by_signature(vec: VectorValue, m: Matching) -> dict[Labels, list[int]]:
    out: dict[Labels, list[int]] = {}
    for i, lab in enumerate(vec.labels):
        out.setdefault(_signature(lab, m), []).append(i)
    return out


def set_operation(op: str, lhs: VectorValue, rhs: VectorValue, m: Matching) -> VectorValue:
    steps = lhs.steps
    rhs_any = {sig: rhs.present[rows].any(axis=0) for sig, rows in _by_signature(rhs, m).items()}
    none = np.zeros(steps, dtype=np.bool_)
    if op in ("and", "unless"):
        present = lhs.present.copy()
        for i, lab in enumerate(lhs.labels):
            hit = rhs_any.get(_signature(lab, m), none)
            present[i] &= hit if op == "and" else ~hit
        return VectorValue(lhs.labels, lhs.values, present).compact()
    lhs_any = {sig: lhs.present[rows].any(axis=0) for sig, rows in _by_signature(lhs, m).items()}
    rhs_present = rhs.present.copy()
    for i, lab in enumerate(rhs.labels):
        rhs_present[i] &= ~lhs_any.get(_signature(lab, m), none)
    return merge_rows(
        list(lhs.labels) + list(rhs.labels),
        np.vstack([lhs.values, rhs.values]),
        np.vstack([lhs.present, rhs_present]),
    )


def _result_labels(many: Labels, one: Labels, op: str, m: Matching) -> Labels:
    out = many
    if op in ARITHMETIC:
        out = drop_name(out)
    if m.card == "one-to-one":
        names = frozenset(m.labels)
        out = keep_only(out, names) if m.on else drop_labels(out, names)
    for name in m.include:  # group_x(labels): copied from the "one" side, deleted if absent there
        out = with_label(out, name, get_label(one, name))
    if m.return_bool:
        out = drop_name(out)
    return out


def vector_vector(op: str, lhs: VectorValue, rhs: VectorValue, m: Matching) -> VectorValue:
    if op in SET_OPS:
        return set_operation(op, lhs, rhs, m)
    steps = lhs.steps
    many, one = (rhs, lhs) if m.card == "one-to-many" else (lhs, rhs)
    both_sides = many.present.any(axis=0) & one.present.any(axis=0)
    one_side_name = "left hand-side" if m.card == "one-to-many" else "right hand-side"  # sic, as Prometheus
    # For each match signature of the "one" side: which of its rows is present at each step.
    one_row: dict[Labels, IntArray] = {}
    for sig, one_rows in _by_signature(one, m).items():
        pres = one.present[one_rows]
        dup = (pres.sum(axis=0) > 1) & both_sides
        if bool(dup.any()):
            t = int(np.flatnonzero(dup)[0])
            a, b = [one.labels[one_rows[k]] for k in np.flatnonzero(pres[:, t])[:2]]
            raise PromQLError(
                "execution",
                f"found duplicate series for the match group {format_labels(sig)} on the {one_side_name} "
                f"of the operation: [{format_labels(b)}, {format_labels(a)}];many-to-many matching not "
                "allowed: matching labels must be unique on one side",
            )
        one_row[sig] = np.where(pres.any(axis=0), np.array(one_rows)[pres.argmax(axis=0)], -1)
    out_labels: list[Labels] = []
    out_v: list[FloatArray] = []
    out_p: list[BoolArray] = []
    out_sig: list[Labels] = []
    for i, lab in enumerate(many.labels):
        sig = _signature(lab, m)
        rows = one_row.get(sig)
        if rows is None:
            continue
        matched = many.present[i] & (rows >= 0)
        if not bool(matched.any()):
            continue
        safe = np.maximum(rows, 0)
        other = one.values[safe, np.arange(steps)]
        if m.card == "one-to-many":
            value, keep = elementwise(op, other, many.values[i])
        else:
            value, keep = elementwise(op, many.values[i], other)
        if m.return_bool:
            value, keep = keep.astype(np.float64), np.ones_like(keep)
        ok = matched & keep
        partners = np.unique(rows[ok]) if m.include else np.unique(rows[ok])[:1]
        for r in partners:
            sel = ok & (rows == r) if m.include else ok
            out_labels.append(_result_labels(lab, one.labels[int(r)], op, m))
            out_v.append(value)
            out_p.append(sel)
            out_sig.append(sig)
    if not out_labels:
        return VectorValue.empty(steps)
    _check_unique(out_labels, out_sig, out_p, m)
    return merge_rows(out_labels, np.vstack(out_v), np.vstack(out_p))


def _check_unique(labels: list[Labels], sigs: list[Labels], present: list[BoolArray], m: Matching) -> None:
    """Prometheus' per-match-group checks, with its messages."""
    seen: dict[Labels, BoolArray] = {}
    for lab, sig, pres in zip(labels, sigs, present, strict=True):
        key = sig if m.card == "one-to-one" else (*sig, ("\x00result", repr(lab)))
        prev = seen.get(key)
        if prev is not None and bool((prev & pres).any()):
            if m.card == "one-to-one":
                raise PromQLError(
                    "execution",
                    "multiple matches for labels: many-to-one matching must be explicit "
                    "(group_left/group_right)",
                )
            raise PromQLError(
                "execution", "multiple matches for labels: grouping labels must ensure unique matches"
            )
        seen[key] = pres if prev is None else (prev | pres)
