"""Instant-vector functions: math, clamp, label_replace/label_join, sort, absent."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from compass_lab.promql.aggregate import valid_label_name
from compass_lab.promql.errors import PromQLError
from compass_lab.promql.labels import Labels, drop_name, get_label, with_label
from compass_lab.promql.values import FloatArray, VectorValue, merge_rows

MATH: dict[str, Callable[[FloatArray], FloatArray]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sgn": np.sign,
}


def map_values(vec: VectorValue, fn: Callable[[FloatArray], FloatArray]) -> VectorValue:
    """Apply a per-sample function; like every such Prometheus function it drops the metric name."""
    with np.errstate(all="ignore"):
        values = np.asarray(fn(vec.values), dtype=np.float64)
    return merge_rows([drop_name(lab) for lab in vec.labels], values, vec.present)


def round_to(vec: VectorValue, to_nearest: FloatArray) -> VectorValue:
    inverse = 1.0 / to_nearest[None, :]
    return map_values(vec, lambda v: np.floor(v * inverse + 0.5) / inverse)


def clamp(vec: VectorValue, low: FloatArray, high: FloatArray) -> VectorValue:
    """clamp(): Go's math.Max/Min (NaN-propagating); no output at steps where max < min."""
    out = map_values(vec, lambda v: np.minimum(high[None, :], np.maximum(low[None, :], v)))
    ok = ~(high < low)
    return VectorValue(out.labels, out.values, out.present & ok[None, :]).compact()


def _go_expand(template: str, match: re.Match[str]) -> str:
    """Go's Regexp.ExpandString: `$1`, `${1}`, `$name` (longest name: `$1x` is group "1x"), `$$`."""
    out: list[str] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        i += 1
        if i < len(template) and template[i] == "$":
            out.append("$")
            i += 1
            continue
        braced = i < len(template) and template[i] == "{"
        j = i + 1 if braced else i
        k = j
        while k < len(template) and (template[k].isalnum() or template[k] == "_"):
            k += 1
        name = template[j:k]
        if not name or (braced and (k >= len(template) or template[k] != "}")):
            out.append("$")  # malformed: Go keeps the dollar as text
            continue
        i = k + 1 if braced else k
        group: str | None = None
        if name.isdigit():
            n = int(name)
            if n <= (match.re.groups):
                group = match.group(n)
        elif name in match.re.groupindex:
            group = match.group(name)
        out.append(group or "")
    return "".join(out)


def label_replace(vec: VectorValue, dst: str, replacement: str, src: str, regex: str) -> VectorValue:
    try:
        pattern = re.compile(f"(?:{regex})", re.DOTALL)
    except re.error as exc:
        raise PromQLError("execution", f"invalid regular expression in label_replace(): {regex}") from exc
    if not valid_label_name(dst):
        raise PromQLError("execution", f"invalid destination label name in label_replace(): {dst}")
    labels: list[Labels] = []
    for lab in vec.labels:
        m = pattern.fullmatch(get_label(lab, src))
        labels.append(lab if m is None else with_label(lab, dst, _go_expand(replacement, m)))
    return merge_rows(labels, vec.values, vec.present)


def label_join(vec: VectorValue, dst: str, sep: str, sources: list[str]) -> VectorValue:
    if not valid_label_name(dst):
        raise PromQLError("execution", f"invalid destination label name in label_join(): {dst}")
    labels = [with_label(lab, dst, sep.join(get_label(lab, s) for s in sources)) for lab in vec.labels]
    return merge_rows(labels, vec.values, vec.present)


def sort_rows(vec: VectorValue, descending: bool) -> VectorValue:
    """sort()/sort_desc(): order by the first step's value (only instant queries keep row order)."""
    if not vec.labels:
        return vec
    key = np.where(vec.present[:, 0], vec.values[:, 0], np.nan)
    # Prometheus puts NaN last in both directions.
    finite = np.where(np.isnan(key), np.inf if not descending else -np.inf, key)
    order = np.argsort(-finite if descending else finite, kind="stable")
    return VectorValue(tuple(vec.labels[i] for i in order), vec.values[order], vec.present[order])


def absent_labels(matchers: list[tuple[str, str, str]]) -> Labels:
    """Labels of absent()'s output: the selector's equality matchers, unless a label is ambiguous."""
    pairs: dict[str, str] = {}
    ambiguous: set[str] = set()
    for name, op, value in matchers:
        if name == "__name__":
            continue
        if op == "=" and name not in pairs:
            pairs[name] = value
        else:
            ambiguous.add(name)
    return tuple(sorted((k, v) for k, v in pairs.items() if k not in ambiguous and v != ""))
