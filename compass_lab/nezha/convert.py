"""Converting one recorded day from the archive's CSVs to compact arrays, once, and loading them back.

The CSVs (hundreds of MB of text) are parsed once into `.npz` arrays plus a JSON manifest under the
cache; later runs load those in well under a second. Nothing is interpreted here beyond what the files
say: per-pod metric rows become series, span rows become spans, log rows become lines. Values that do
not parse are dropped (an absent sample), never guessed.

Timestamps come from the human-readable `Time` column: in one file of the stored copy the numeric
`TimeStamp` column is corrupt (off by 2e8 s and out of order), while `Time` is consistent everywhere.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from compass_lab.nezha.errors import NezhaDataError
from compass_lab.nezha.naming import deployment_of, metric_name

FORMAT_VERSION = "1"
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
I32 = npt.NDArray[np.int32]
F64 = npt.NDArray[np.float64]

_TIME = re.compile(r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:\.\d+)?(?: ?([+-]\d{4}|Z))?")
_TIME_COLUMNS = ("Time", "time")
_SKIP_COLUMNS = ("TimeStamp", "timestamp", "Time", "time")
_LABEL_COLUMNS = {"PodName": "pod", "ServiceName": "ServiceName"}
_EDGE_FILES = ("source_50", "destination_50")  # columns "<caller>_<callee>": edge latencies

csv.field_size_limit(sys.maxsize)


def parse_time(text: str) -> float | None:
    m = _TIME.match(text.strip())
    if m is None:
        return None
    t = datetime.strptime(m.group(1).replace("T", " "), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    off = m.group(2)
    if off and off != "Z":
        sign = 1 if off[0] == "+" else -1
        t -= sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5]))
    return t.timestamp()


@dataclass(frozen=True)
class DayMetrics:
    """Every series of a day: series i spans `ts[offsets[i]:offsets[i+1]]` (ascending)."""

    labels: tuple[dict[str, str], ...]
    offsets: I64
    ts: F64
    values: F64


@dataclass(frozen=True)
class DaySpans:
    """Every span of a day, sorted by start. Ids are the recording's hex ids as integers (parent 0: root)."""

    trace_hi: U64
    trace_lo: U64
    span: U64
    parent: U64
    pod: I32  # index into pods
    op: I32  # index into ops
    start_ns: I64
    end_ns: I64
    pods: tuple[str, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True)
class DayLogs:
    """Every log line of a day, sorted by time; line i is `blob[offsets[i]:offsets[i+1]]` (UTF-8)."""

    ts_ns: I64
    stream: I32  # index into streams
    offsets: I64
    blob: bytes
    streams: tuple[tuple[str, str, str, str], ...]  # (pod, container, stdout|stderr, node)


@dataclass(frozen=True)
class Manifest:
    date: str
    faults: tuple[dict[str, str], ...]  # the fault list's entries, in time order
    trace_minutes: tuple[float, ...]  # start of each minute whose trace file exists
    log_minutes: tuple[float, ...]
    edges: tuple[tuple[str, str], ...]  # caller -> callee deployments seen in traces
    start: float
    end: float


# -- parsing ---------------------------------------------------------------------------------------------


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _metric_file(path: Path, namespace: str) -> list[tuple[dict[str, str], list[float], list[float]]]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return []
        tcol = next((header.index(c) for c in _TIME_COLUMNS if c in header), None)
        if tcol is None:
            return []  # not a time series (dependency.csv: a static call graph)
        rows = [r for r in reader if len(r) == len(header)]
    label_cols = [(header.index(c), lbl) for c, lbl in _LABEL_COLUMNS.items() if c in header]
    value_cols = [
        (i, col) for i, col in enumerate(header) if col not in _SKIP_COLUMNS and col not in _LABEL_COLUMNS
    ]
    # rows grouped by their label values (one pod per file in practice), columns read as a whole
    groups: dict[tuple[str, ...], list[tuple[float, list[str]]]] = defaultdict(list)
    for row in rows:
        t = parse_time(row[tcol])
        if t is not None:
            groups[tuple(row[i] for i, _ in label_cols)].append((t, row))
    out = []
    for key, members in groups.items():
        base = {"namespace": namespace, **{lbl: v for (_, lbl), v in zip(label_cols, key, strict=True)}}
        times = [t for t, _ in members]
        for i, col in value_cols:
            if path.stem in _EDGE_FILES:
                caller, _, callee = col.partition("_")
                labels = {"__name__": path.stem, **base, "source": caller, "destination": callee}
            else:
                labels = {"__name__": metric_name(col), **base}
            values = [_float(r[i]) for _, r in members]
            kept = [(t, v) for t, v in zip(times, values, strict=True) if v == v and abs(v) != float("inf")]
            out.append((labels, [t for t, _ in kept], [v for _, v in kept]))
    return out


def convert_metrics(day_dir: Path, namespace: str) -> DayMetrics:
    labels: list[dict[str, str]] = []
    chunks_t: list[F64] = []
    chunks_v: list[F64] = []
    for path in sorted((day_dir / "metric").glob("*.csv")):
        for lbl, ts, vs in _metric_file(path, namespace):
            if not ts:
                continue  # a column with no value at all: no series
            t = np.asarray(ts, dtype=np.float64)
            v = np.asarray(vs, dtype=np.float64)
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
            keep = np.concatenate(([True], np.diff(t) > 0))  # a repeated timestamp keeps its first sample
            labels.append(lbl)
            chunks_t.append(t[keep])
            chunks_v.append(v[keep])
    offsets = np.zeros(len(labels) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(c) for c in chunks_t])
    empty = np.zeros(0, dtype=np.float64)
    return DayMetrics(
        tuple(labels),
        offsets,
        np.concatenate(chunks_t) if chunks_t else empty,
        np.concatenate(chunks_v) if chunks_v else empty,
    )


def _hex(text: str, width: int) -> int | None:
    if len(text) != width:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


_SPAN_COLUMNS = (
    "TraceID",
    "SpanID",
    "ParentID",
    "PodName",
    "OperationName",
    "StartTimeUnixNano",
    "EndTimeUnixNano",
)


def convert_spans(day_dir: Path) -> DaySpans:
    hi: list[int] = []
    lo: list[int] = []
    span_ids: list[int] = []
    parents: list[int] = []
    pod_ix: list[int] = []
    op_ix: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    pods: dict[str, int] = {}
    ops: dict[str, int] = {}
    mask = (1 << 64) - 1
    for path in sorted((day_dir / "trace").glob("*_trace.csv")):
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            if not all(c in header for c in _SPAN_COLUMNS):
                continue
            ti, si, pi, podi, opi, sti, eni = (header.index(c) for c in _SPAN_COLUMNS)
            width = len(header)
            for row in reader:
                if len(row) != width:
                    continue
                tid, sid = _hex(row[ti], 32), _hex(row[si], 16)
                raw_parent = row[pi]
                parent = 0 if raw_parent in ("root", "") else _hex(raw_parent, 16)
                try:
                    start, end = int(row[sti]), int(row[eni])
                except ValueError:
                    continue
                if tid is None or sid is None or parent is None or end < start:
                    continue
                hi.append(tid >> 64)
                lo.append(tid & mask)
                span_ids.append(sid)
                parents.append(parent)
                pod_ix.append(pods.setdefault(row[podi], len(pods)))
                op_ix.append(ops.setdefault(row[opi], len(ops)))
                starts.append(start)
                ends.append(end)
    start_arr = np.asarray(starts, dtype=np.int64)
    order = np.argsort(start_arr, kind="stable")
    return DaySpans(
        np.asarray(hi, dtype=np.uint64)[order],
        np.asarray(lo, dtype=np.uint64)[order],
        np.asarray(span_ids, dtype=np.uint64)[order],
        np.asarray(parents, dtype=np.uint64)[order],
        np.asarray(pod_ix, dtype=np.int32)[order],
        np.asarray(op_ix, dtype=np.int32)[order],
        start_arr[order],
        np.asarray(ends, dtype=np.int64)[order],
        tuple(pods),
        tuple(ops),
    )


def _log_line(raw: str) -> tuple[str, str]:
    """The container runtime's JSON envelope unwrapped, as promtail's `docker` stage does: (line, stream)."""
    try:
        env = json.loads(raw)
    except ValueError:
        return raw.rstrip("\n"), "stdout"
    if isinstance(env, dict) and isinstance(env.get("log"), str):
        stream = env.get("stream")
        return env["log"].rstrip("\n"), stream if isinstance(stream, str) else "stdout"
    return raw.rstrip("\n"), "stdout"


def convert_logs(day_dir: Path) -> DayLogs:
    ts: list[int] = []
    stream_ix: list[int] = []
    lines: list[bytes] = []
    streams: dict[tuple[str, str, str, str], int] = {}
    for path in sorted((day_dir / "log").glob("*_log.csv")):
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    t = int(row["TimeUnixNano"])
                except (KeyError, TypeError, ValueError):
                    continue
                line, stream = _log_line(row.get("Log") or "")
                key = (row.get("PodName") or "", row.get("Container") or "", stream, row.get("Node") or "")
                ts.append(t)
                stream_ix.append(streams.setdefault(key, len(streams)))
                lines.append(line.encode())
    t_arr = np.asarray(ts, dtype=np.int64)
    order = np.argsort(t_arr, kind="stable")
    ordered = [lines[i] for i in order]
    offsets = np.zeros(len(ordered) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in ordered])
    return DayLogs(
        t_arr[order], np.asarray(stream_ix, dtype=np.int32)[order], offsets, b"".join(ordered), tuple(streams)
    )


def _minutes(day_dir: Path, kind: str, date: str) -> tuple[float, ...]:
    out = []
    for p in (day_dir / kind).glob(f"*_{kind}.csv"):
        hh, mm = p.stem.split("_")[:2]
        t = parse_time(f"{date} {hh}:{mm}:00")
        if t is not None:
            out.append(t)
    return tuple(sorted(out))


def _edges(spans: DaySpans) -> tuple[tuple[str, str], ...]:
    """Caller -> callee deployments: a span whose parent ran in another deployment."""
    order = np.argsort(spans.span, kind="stable")
    sorted_ids = spans.span[order]
    pos = np.searchsorted(sorted_ids, spans.parent)
    pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
    found = (spans.parent != 0) & (len(sorted_ids) > 0) & (sorted_ids[pos] == spans.parent)
    parent_pod = spans.pod[order][pos]
    deps = [deployment_of(p) for p in spans.pods]
    pairs = {
        (deps[int(a)], deps[int(b)])
        for a, b in set(zip(parent_pod[found].tolist(), spans.pod[found].tolist(), strict=True))
    }
    return tuple(sorted((a, b) for a, b in pairs if a != b))


def convert_day(raw: Path, date: str, namespace: str, out: Path) -> None:
    day_dir = raw / "rca_data" / date
    fault_file = day_dir / f"{date}-fault_list.json"
    if not fault_file.is_file():
        raise NezhaDataError(f"the archive has no {fault_file.relative_to(raw)}")
    by_hour = json.loads(fault_file.read_text())
    faults = sorted(
        (dict(f) for hour in by_hour.values() for f in hour), key=lambda f: int(f["inject_timestamp"])
    )
    metrics = convert_metrics(day_dir, namespace)
    spans = convert_spans(day_dir)
    logs = convert_logs(day_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(
        out / "metrics.npz",
        labels=np.array(json.dumps(metrics.labels)),
        offsets=metrics.offsets,
        ts=metrics.ts,
        values=metrics.values,
    )
    np.savez(
        out / "spans.npz",
        trace_hi=spans.trace_hi,
        trace_lo=spans.trace_lo,
        span=spans.span,
        parent=spans.parent,
        pod=spans.pod,
        op=spans.op,
        start_ns=spans.start_ns,
        end_ns=spans.end_ns,
        pods=np.array(json.dumps(spans.pods)),
        ops=np.array(json.dumps(spans.ops)),
    )
    np.savez(
        out / "logs.npz",
        ts_ns=logs.ts_ns,
        stream=logs.stream,
        offsets=logs.offsets,
        blob=np.frombuffer(logs.blob, dtype=np.uint8),
        streams=np.array(json.dumps(logs.streams)),
    )
    start = float(metrics.ts.min()) if metrics.ts.size else 0.0
    end = float(metrics.ts.max()) if metrics.ts.size else 0.0
    manifest = {
        "date": date,
        "faults": faults,
        "trace_minutes": _minutes(day_dir, "trace", date),
        "log_minutes": _minutes(day_dir, "log", date),
        "edges": _edges(spans),
        "start": start,
        "end": end,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


# -- loading ---------------------------------------------------------------------------------------------


def load_manifest(day: Path) -> Manifest:
    m = json.loads((day / "manifest.json").read_text())
    return Manifest(
        m["date"],
        tuple(m["faults"]),
        tuple(m["trace_minutes"]),
        tuple(m["log_minutes"]),
        tuple((a, b) for a, b in m["edges"]),
        float(m["start"]),
        float(m["end"]),
    )


def load_metrics(day: Path) -> DayMetrics:
    with np.load(day / "metrics.npz") as z:
        return DayMetrics(tuple(json.loads(str(z["labels"]))), z["offsets"], z["ts"], z["values"])


def load_spans(day: Path) -> DaySpans:
    with np.load(day / "spans.npz") as z:
        return DaySpans(
            z["trace_hi"],
            z["trace_lo"],
            z["span"],
            z["parent"],
            z["pod"],
            z["op"],
            z["start_ns"],
            z["end_ns"],
            tuple(json.loads(str(z["pods"]))),
            tuple(json.loads(str(z["ops"]))),
        )


def load_logs(day: Path) -> DayLogs:
    with np.load(day / "logs.npz") as z:
        streams = tuple((a, b, c, d) for a, b, c, d in json.loads(str(z["streams"])))
        return DayLogs(z["ts_ns"], z["stream"], z["offsets"], z["blob"].tobytes(), streams)
