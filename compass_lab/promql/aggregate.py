"""Aggregation operators (sum, avg, topk, quantile...) over an instant vector at every step."""

from __future__ import annotations

import numpy as np

from compass_lab.promql.errors import PromQLError
from compass_lab.promql.format import format_value
from compass_lab.promql.labels import METRIC_NAME, Labels, drop_labels, keep_only, with_label
from compass_lab.promql.rangefuncs import quantile_rows
from compass_lab.promql.values import FloatArray, IntArray, VectorValue, merge_rows

LABEL_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def valid_label_name(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and all(c in LABEL_NAME_CHARS for c in name)


def _group_labels(labels: Labels, without: bool, grouping: frozenset[str]) -> Labels:
    if without:
        return drop_labels(labels, grouping | {METRIC_NAME})
    return keep_only(labels, grouping)


def _groups(vec: VectorValue, without: bool, grouping: frozenset[str]) -> tuple[list[Labels], IntArray]:
    keys: dict[Labels, int] = {}
    g = np.empty(len(vec.labels), dtype=np.int64)
    for i, lab in enumerate(vec.labels):
        g[i] = keys.setdefault(_group_labels(lab, without, grouping), len(keys))
    return list(keys), g


def aggregate(
    op: str,
    vec: VectorValue,
    without: bool,
    grouping: list[str],
    param: FloatArray | str | None,
) -> VectorValue:
    steps = vec.steps
    if op == "count_values":
        assert isinstance(param, str)
        return _count_values(vec, without, frozenset(grouping), param)
    if not vec.labels:
        return VectorValue.empty(steps)
    keys, g = _groups(vec, without, frozenset(grouping))
    if op in ("topk", "bottomk"):
        assert isinstance(param, np.ndarray)
        return _topk(vec, g, len(keys), param, op == "topk")
    order = np.argsort(g, kind="stable")
    sorted_g = g[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_g[1:] != sorted_g[:-1])))
    v = vec.values[order]
    p = vec.present[order]
    count = np.add.reduceat(p.astype(np.float64), starts, axis=0)
    present = count > 0
    with np.errstate(all="ignore"):
        if op == "sum":
            out = np.add.reduceat(np.where(p, v, 0.0), starts, axis=0)
        elif op == "avg":
            out = np.add.reduceat(np.where(p, v, 0.0), starts, axis=0) / count
        elif op == "count":
            out = count
        elif op == "group":
            out = np.ones_like(count)
        elif op == "max":  # NaN only when every value is NaN, as in Prometheus
            out = np.fmax.reduceat(np.where(p, v, np.nan), starts, axis=0)
        elif op == "min":
            out = np.fmin.reduceat(np.where(p, v, np.nan), starts, axis=0)
        elif op in ("stddev", "stdvar"):
            mean = np.add.reduceat(np.where(p, v, 0.0), starts, axis=0) / count
            group_of_row = np.repeat(np.arange(starts.size), np.diff(np.append(starts, len(order))))
            dev = np.where(p, v - mean[group_of_row], 0.0)
            out = np.add.reduceat(dev * dev, starts, axis=0) / count
            if op == "stddev":
                out = np.sqrt(out)
        elif op == "quantile":
            assert isinstance(param, np.ndarray)
            bounds = np.append(starts, len(order))
            out = np.zeros((starts.size, steps))
            for j in range(starts.size):
                block = np.where(p[bounds[j] : bounds[j + 1]], v[bounds[j] : bounds[j + 1]], np.inf).T
                out[j] = quantile_rows(block, count[j].astype(np.int64), param)
        else:
            raise PromQLError(
                "bad_data", f"aggregation {op!r} is not supported by the lab's PromQL evaluator"
            )
    group_keys = [keys[int(sorted_g[s])] for s in starts]
    return merge_rows(group_keys, np.asarray(out, dtype=np.float64), present)


def _topk(vec: VectorValue, g: IntArray, n_groups: int, k_param: FloatArray, top: bool) -> VectorValue:
    selected = np.zeros_like(vec.present)
    with np.errstate(all="ignore"):
        k = np.where(np.isfinite(k_param), np.trunc(k_param), 0).astype(np.int64)
        # Prometheus ranks NaN below every number; absent rows sort last either way.
        filler = -np.inf if top else np.inf
        key = np.where(vec.present, np.where(np.isnan(vec.values), filler, vec.values), np.nan)
        for j in range(n_groups):
            rows = np.flatnonzero(g == j)
            sub = -key[rows] if top else key[rows]
            order = np.argsort(sub, axis=0, kind="stable")
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.arange(rows.size)[:, None].repeat(sub.shape[1], axis=1), axis=0)
            selected[rows] = (rank < k[None, :]) & vec.present[rows]
    return VectorValue(vec.labels, vec.values, selected).compact()


def _count_values(vec: VectorValue, without: bool, grouping: frozenset[str], label: str) -> VectorValue:
    if not valid_label_name(label):
        raise PromQLError("execution", f'invalid label name "{label}"')
    if not without:
        grouping = grouping | {label}
    counts: dict[Labels, FloatArray] = {}
    for i, lab in enumerate(vec.labels):
        for t in np.flatnonzero(vec.present[i]):
            key = _group_labels(
                with_label(lab, label, format_value(float(vec.values[i, t]))), without, grouping
            )
            row = counts.setdefault(key, np.zeros(vec.steps))
            row[t] += 1
    if not counts:
        return VectorValue.empty(vec.steps)
    values = np.vstack(list(counts.values()))
    return merge_rows(list(counts), values, values > 0)
