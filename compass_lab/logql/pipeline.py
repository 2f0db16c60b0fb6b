"""Runs a LogQL pipeline (line filters, parsers, label filters, line_format) over one log line."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from compass_lab.logql.ast import (
    DropKeepStage,
    LabelBool,
    LabelCompare,
    LabelExpr,
    LabelFilterStage,
    LineFilter,
    LineFormatStage,
    ParserStage,
    Stage,
)
from compass_lab.logql.lexer import duration_ns

_LOGFMT = re.compile(r'([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)')
_INVALID_LABEL_CHAR = re.compile(r"[^A-Za-z0-9_]")
_DURATION_VALUE = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+")
_TEMPLATE_FIELD = re.compile(r"\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Entry:
    """A line after the pipeline: its (possibly extended) label set and (possibly rewritten) text."""

    labels: Mapping[str, str]
    line: str


def _sanitize(key: str) -> str:
    return _INVALID_LABEL_CHAR.sub("_", key)


def _flatten_json(prefix: str, value: object, out: dict[str, str]) -> None:
    # Loki's json parser joins nested keys with "_" and skips arrays.
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten_json(f"{prefix}_{_sanitize(str(k))}" if prefix else _sanitize(str(k)), v, out)
    elif isinstance(value, list):
        return
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif value is None:
        out[prefix] = ""
    elif isinstance(value, float) and value.is_integer():
        out[prefix] = str(int(value))
    else:
        out[prefix] = str(value)


def parse_json(line: str) -> dict[str, str] | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    out: dict[str, str] = {}
    _flatten_json("", obj, out)
    return out


def parse_logfmt(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, raw in _LOGFMT.findall(line):
        value = raw
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[_sanitize(key)] = value
    return out


def _add_extracted(labels: dict[str, str], extracted: Mapping[str, str]) -> None:
    # A parsed key that collides with a stream label gets the "_extracted" suffix, as in Loki.
    for k, v in extracted.items():
        if k in labels and k not in ("__error__",):
            labels[f"{k}_extracted"] = v
        else:
            labels[k] = v


def _numeric(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    if _DURATION_VALUE.fullmatch(value):
        return duration_ns(value) / 1e9
    return None


def label_matches(expr: LabelExpr, labels: Mapping[str, str]) -> bool:
    if isinstance(expr, LabelBool):
        left = label_matches(expr.left, labels)
        if expr.op == "and":
            return left and label_matches(expr.right, labels)
        return left or label_matches(expr.right, labels)
    actual = labels.get(expr.name, "")
    return _compare(expr, actual)


def _compare(expr: LabelCompare, actual: str) -> bool:
    if expr.number is not None:
        num = _numeric(actual)
        if num is None:
            return False  # Loki marks the line with a conversion error; it never matches the filter
        target = expr.number
        return {
            "=": num == target,
            "==": num == target,
            "!=": num != target,
            ">": num > target,
            "<": num < target,
            ">=": num >= target,
            "<=": num <= target,
        }[expr.op]
    if expr.op in ("=", "=="):
        return actual == expr.value
    if expr.op == "!=":
        return actual != expr.value
    assert expr.regex is not None
    hit = expr.regex.fullmatch(actual) is not None
    return hit if expr.op == "=~" else not hit


def line_passes(f: LineFilter, line: str) -> bool:
    if f.op == "|=":
        return f.value in line
    if f.op == "!=":
        return f.value not in line
    assert f.regex is not None
    if (words := f.words) is not None:
        text = line.lower() if words[1] else line
        hit = any(w in text for w in words[0])
    else:
        hit = f.regex.search(line) is not None
    return hit if f.op == "|~" else not hit


def _format_line(template: str, labels: Mapping[str, str]) -> str:
    """`line_format`: the subset substitutes `{{.label}}` fields only (no template functions)."""
    return _TEMPLATE_FIELD.sub(lambda m: labels.get(m.group(1), ""), template)


def run_pipeline(stages: tuple[Stage, ...], stream_labels: Mapping[str, str], line: str) -> Entry | None:
    """Apply `stages` to one line; None when a filter drops it."""
    labels: dict[str, str] | None = None  # copied lazily: most lines only meet line filters
    for stage in stages:
        if isinstance(stage, LineFilter):
            if not line_passes(stage, line):
                return None
            continue
        if labels is None:
            labels = dict(stream_labels)
        if isinstance(stage, ParserStage):
            if stage.kind == "json":
                parsed = parse_json(line)
                if parsed is None:
                    labels["__error__"] = "JSONParserErr"
                else:
                    _add_extracted(labels, parsed)
            else:
                _add_extracted(labels, parse_logfmt(line))
        elif isinstance(stage, LabelFilterStage):
            if not label_matches(stage.expr, labels):
                return None
        elif isinstance(stage, LineFormatStage):
            line = _format_line(stage.template, labels)
        elif isinstance(stage, DropKeepStage):
            if stage.kind == "drop":
                labels = {k: v for k, v in labels.items() if k not in stage.names}
            else:
                labels = {k: v for k, v in labels.items() if k in stage.names}
    return Entry(labels if labels is not None else stream_labels, line)
