"""A tiny archive in the layout of Nezha's `nezha-dev.tar.xz`: two days, two services each, a few faults.

Values follow simple rules so that tests can check what the conversion must produce: CPU usage rate
is 10 % (90 % on a pod under a CPU fault), the entry's p99 is 1 s (3 s after any fault, and in one
fault-free blip that makes a control). One OnlineBoutique fault has no log files (as in the stored
copy, where many are absent); adservice-like corruption is reproduced by a wrong `TimeStamp` column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

POD_COLUMNS = [
    "CpuUsage(m)",
    "CpuUsageRate(%)",
    "MemoryUsage(Mi)",
    "MemoryUsageRate(%)",
    "SyscallRead",
    "SyscallWrite",
    "NetworkReceiveBytes",
    "NetworkTransmitBytes",
    "PodClientLatencyP90(s)",
    "PodServerLatencyP90(s)",
    "PodClientLatencyP95(s)",
    "PodServerLatencyP95(s)",
    "PodClientLatencyP99(s)",
    "PodServerLatencyP99(s)",
    "PodWorkload(Ops)",
    "PodSuccessRate(%)",
    "NodeCpuUsageRate(%)",
    "NodeMemoryUsageRate(%)",
    "NodeNetworkReceiveBytes",
]
FRONT_COLUMNS = ["SuccessRate(%)", "LatencyP50(s)", "LatencyP90(s)", "LatencyP95(s)", "LatencyP99(s)"]
ROWS = 180  # three hours of 1-minute samples
EMPTY_EDGE_ROW = 30


@dataclass(frozen=True)
class FixtureFault:
    clock: str  # HH:MM:SS
    pod: str
    inject_type: str
    logs: bool = True  # whether the log files of its minutes exist


@dataclass(frozen=True)
class FixtureDay:
    date: str
    first: str  # HH:MM of the first metric row
    entry_pod: str
    callee_pod: str
    faults: tuple[FixtureFault, ...]
    blip: str  # HH:MM of a fault-free p99 blip at the entry (a control)
    corrupt_timestamp_pod: str | None = None


OB = FixtureDay(
    "2022-08-22",
    "03:00",
    "frontend-579b9bff58-t2dbm",
    "cartservice-579f59597d-wc2lz",
    (
        FixtureFault("03:53:54", "cartservice-579f59597d-wc2lz", "cpu_contention"),
        FixtureFault("04:10:20", "frontend-579b9bff58-t2dbm", "exception", logs=False),
    ),
    "05:40",
    corrupt_timestamp_pod="cartservice-579f59597d-wc2lz",
)
TT = FixtureDay(
    "2023-01-30",
    "11:00",
    "ts-ui-dashboard-5477b965f-lwprp",
    "ts-basic-service-5dc8d4f9fd-llznp",
    (FixtureFault("11:51:46", "ts-basic-service-5dc8d4f9fd-llznp", "network_delay"),),
    "13:30",
)
DAYS = (OB, TT)


def epoch(date: str, clock: str) -> int:
    fmt = "%Y-%m-%d %H:%M:%S" if clock.count(":") == 2 else "%Y-%m-%d %H:%M"
    return int(datetime.strptime(f"{date} {clock}", fmt).replace(tzinfo=UTC).timestamp())


def row_times(day: FixtureDay) -> list[int]:
    """Sample times: 19 s past each minute, as in the recording."""
    return [epoch(day.date, day.first) + 19 + 60 * i for i in range(ROWS)]


def go_time(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.123456789 +0000 UTC m=+0.1")


def _faulted(day: FixtureDay, t: int, pod: str | None = None) -> bool:
    return any(0 <= t - epoch(day.date, f.clock) < 240 and (pod is None or f.pod == pod) for f in day.faults)


def cpu_rate(day: FixtureDay, pod: str, t: int) -> float:
    hot = any(
        0 <= t - epoch(day.date, f.clock) < 240 and f.pod == pod and f.inject_type.startswith("cpu")
        for f in day.faults
    )
    return 90.0 if hot else 10.0


def entry_p99(day: FixtureDay, t: int) -> float:
    blip = 0 <= t - epoch(day.date, day.blip) < 120
    return 3.0 if _faulted(day, t) or blip else 1.0


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def _metric_files(day: FixtureDay) -> dict[str, bytes]:
    out = {}
    for pod in (day.entry_pod, day.callee_pod):
        rows: list[list[object]] = []
        for t in row_times(day):
            stamp = t + 200_000_000 if pod == day.corrupt_timestamp_pod else t
            values = [1.0] * len(POD_COLUMNS)
            values[POD_COLUMNS.index("CpuUsageRate(%)")] = cpu_rate(day, pod, t)
            rows.append([go_time(t), stamp, pod, *values])
        out[f"metric/{pod}_metric.csv"] = _csv(["Time", "TimeStamp", "PodName", *POD_COLUMNS], rows)
    front = [[go_time(t), t, "Frontend", 100, 0.1, 0.5, 0.8, entry_p99(day, t)] for t in row_times(day)]
    out["metric/front_service.csv"] = _csv(["Time", "TimeStamp", "ServiceName", *FRONT_COLUMNS], front)
    caller, callee = (p.rsplit("-", 2)[0] for p in (day.entry_pod, day.callee_pod))
    edge_rows: list[list[object]] = [[go_time(t), t, 0.003] for t in row_times(day)]
    edge_rows[EMPTY_EDGE_ROW][2] = ""  # an empty cell: no sample that minute
    out["metric/source_50.csv"] = _csv(["time", "timestamp", f"{caller}_{callee}"], edge_rows)
    out["metric/dependency.csv"] = _csv(["Source", "Target", "Weight"], [[caller, callee, 1]])
    return out


def trace_id(t: int, k: int) -> str:
    """Random-looking like real ids (the sampler reads their low 64 bits), yet deterministic."""
    return hashlib.md5(f"{t}-{k}".encode()).hexdigest()


def _trace_and_log_files(day: FixtureDay) -> dict[str, bytes]:
    out = {}
    for f in day.faults:
        inject = epoch(day.date, f.clock)
        for minute in range(3):
            m0 = inject - inject % 60 + 60 * minute
            spans: list[list[object]] = []
            logs: list[list[object]] = []
            for k in range(4):  # four traces a minute: entry -> callee (-> an internal span)
                tid, start = trace_id(m0, k), (m0 + 10 * k) * 10**9
                root, client, server, inner = (f"{m0 % 10**8:08x}{k:04x}{j:04x}" for j in range(4))
                spans += [
                    [tid, root, "root", day.entry_pod, "Recv.", start, start + 50_000_000, 50_000],
                    [
                        tid,
                        client,
                        root,
                        day.entry_pod,
                        "GetCart",
                        start + 1_000_000,
                        start + 41_000_000,
                        40_000,
                    ],
                    [
                        tid,
                        server,
                        client,
                        day.callee_pod,
                        "GetCart",
                        start + 2_000_000,
                        start + 40_000_000,
                        38_000,
                    ],
                    [
                        tid,
                        inner,
                        server,
                        day.callee_pod,
                        "redis.get",
                        start + 3_000_000,
                        start + 9_000_000,
                        6_000,
                    ],
                ]
                envelope = json.dumps({"log": f"TraceID: {tid} served cart {k}\n", "stream": "stdout"})
                logs.append(
                    [
                        go_time(start // 10**9),
                        start + 5_000_000,
                        "33.33.33.1",
                        day.callee_pod,
                        "server",
                        tid,
                        server,
                        envelope,
                    ]
                )
            spans.append(["not-hex", "zz", "root", day.entry_pod, "broken", 1, 2, 0])
            name = datetime.fromtimestamp(m0, UTC).strftime("%H_%M")
            out[f"trace/{name}_trace.csv"] = _csv(
                [
                    "TraceID",
                    "SpanID",
                    "ParentID",
                    "PodName",
                    "OperationName",
                    "StartTimeUnixNano",
                    "EndTimeUnixNano",
                    "Duration",
                ],
                spans,
            )
            if f.logs:
                out[f"log/{name}_log.csv"] = _csv(
                    ["Timestamp", "TimeUnixNano", "Node", "PodName", "Container", "TraceID", "SpanID", "Log"],
                    logs,
                )
    return out


def fault_list(day: FixtureDay) -> bytes:
    by_hour: dict[str, list[dict[str, str]]] = {}
    for f in day.faults:
        t = epoch(day.date, f.clock)
        by_hour.setdefault(f.clock[:2], []).append(
            {
                "inject_time": f"{day.date} {f.clock}",
                "inject_timestamp": str(t),
                "inject_pod": f.pod,
                "inject_type": f.inject_type,
            }
        )
    return json.dumps(by_hour, indent=4).encode()


def build_archive(path: Path) -> Path:
    """Write the fixture archive (tar.xz, members under `./` like the real one) to `path`."""
    files: dict[str, bytes] = {"LICENSE": b"MIT License (fixture)\n"}
    for day in DAYS:
        base = f"rca_data/{day.date}"
        files[f"{base}/{day.date}-fault_list.json"] = fault_list(day)
        for rel, data in {**_metric_files(day), **_trace_and_log_files(day)}.items():
            files[f"{base}/{rel}"] = data
        files[f"construct_data/{day.date}/metric/front_service.csv"] = b"not served\n"
    with tarfile.open(path, "w:xz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


EMPTY_EDGE_CELL_T = row_times(OB)[EMPTY_EDGE_ROW]
