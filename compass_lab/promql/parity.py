"""Parity harness: the same series in the lab evaluator and in a real Prometheus 2.42.

`RealPrometheus` backfills the series with `promtool tsdb create-blocks-from openmetrics`, runs its
own `prometheus` on 127.0.0.1 (a free port, a private TSDB dir, no scrape targets — independent of
any system service) and `compare()` diffs both answers. Needs the `prometheus`/`promtool` binaries
(Debian package `prometheus`).
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, cast

import httpx
import numpy as np

from compass_lab.model import Series
from compass_lab.promql.errors import PromQLError
from compass_lab.promql.query import query_instant, query_range
from compass_lab.promql.store import SeriesStore

REL_TOLERANCE = 1e-6
ABS_TOLERANCE = 1e-9  # values that should be 0 but carry rounding noise on one side


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _om_value(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def write_openmetrics(series: Iterable[Series], path: Path) -> None:
    """OpenMetrics text for promtool; NaN values are skipped (the lab's "no sample here")."""
    by_name: dict[str, list[Series]] = {}
    for s in series:
        by_name.setdefault(s.labels["__name__"], []).append(s)
    with path.open("w", encoding="utf-8") as out:
        for name in sorted(by_name):
            for s in by_name[name]:
                pairs = ",".join(
                    f'{k}="{_escape(v)}"' for k, v in sorted(s.labels.items()) if k != "__name__" and v
                )
                head = f"{name}{{{pairs}}}" if pairs else name
                ms = np.round(np.asarray(s.timestamps, dtype=np.float64) * 1000.0).astype(np.int64)
                for t, v in zip(ms, s.values, strict=True):
                    if not math.isnan(v):
                        out.write(f"{head} {_om_value(float(v))} {t // 1000}.{t % 1000:03d}\n")
        out.write("# EOF\n")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RealPrometheus:
    """Context manager: a private Prometheus serving `series`, plus the lab store of the same series."""

    def __init__(self, series: Iterable[Series], workdir: Path, binary: str = "prometheus") -> None:
        self.series = tuple(series)
        self.store = SeriesStore(self.series)
        self.workdir = Path(workdir)
        self.binary = binary
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None
        self._client = httpx.Client(timeout=30.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RealPrometheus:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        promtool = shutil.which("promtool")
        prometheus = shutil.which(self.binary)
        if promtool is None or prometheus is None:
            raise RuntimeError("prometheus/promtool not found: apt-get install -y prometheus")
        data = self.workdir / "tsdb"
        data.mkdir(parents=True, exist_ok=True)
        om = self.workdir / "series.om"
        write_openmetrics(self.series, om)
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  evaluation_interval: 1m\nscrape_configs: []\n", encoding="utf-8")
        self.port = _free_port()
        self._log = log = (self.workdir / "prometheus.log").open("wb")
        self._proc = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"prometheus exited early; see {self.workdir / 'prometheus.log'}")
            try:
                if self._client.get(f"{self.url}/-/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("prometheus did not become ready within 60 s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self._client.close()

    # --- querying ---------------------------------------------------------------------------------

    def real(
        self, query: str, start: float, end: float | None = None, step: float | None = None
    ) -> dict[str, object]:
        """The real Prometheus' full JSON body for a range (end and step given) or instant query."""
        if end is None or step is None:
            resp = self._client.post(f"{self.url}/api/v1/query", data={"query": query, "time": str(start)})
        else:
            form = {"query": query, "start": str(start), "end": str(end), "step": str(step)}
            resp = self._client.post(f"{self.url}/api/v1/query_range", data=form)
        body: dict[str, object] = resp.json()
        return body

    def lab(
        self, query: str, start: float, end: float | None = None, step: float | None = None
    ) -> dict[str, object]:
        """The lab's answer in the same envelope as `real()`."""
        try:
            if end is None or step is None:
                data = query_instant(self.store, query, start)
            else:
                data = query_range(self.store, query, start, end, step)
        except PromQLError as exc:
            return {"status": "error", "errorType": exc.error_type, "error": exc.message}
        return {"status": "success", "data": data}

    def compare(
        self, query: str, start: float, end: float | None = None, step: float | None = None
    ) -> list[str]:
        """Differences between the lab and the real Prometheus (empty list: they agree)."""
        return diff_bodies(self.lab(query, start, end, step), self.real(query, start, end, step))


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= max(ABS_TOLERANCE, REL_TOLERANCE * max(abs(x), abs(y)))


def _points(item: dict[str, Any]) -> list[tuple[float, str]]:
    if "values" in item:
        return [(float(t), str(v)) for t, v in item["values"]]
    t, v = item["value"]
    return [(float(t), str(v))]


def diff_bodies(lab_body: dict[str, object], real_body: dict[str, object]) -> list[str]:
    """Differences between two Prometheus API bodies (values within REL/ABS_TOLERANCE, any order)."""
    # JSON walked dynamically: Any stays inside this function.
    lab, real = cast(dict[str, Any], lab_body), cast(dict[str, Any], real_body)
    if real.get("status") != "success" or lab.get("status") != "success":
        if real.get("status") == lab.get("status") == "error":
            if real.get("errorType") != lab.get("errorType"):
                return [f"errorType lab={lab.get('errorType')} real={real.get('errorType')}"]
            return []
        return [f"status lab={json.dumps(lab)[:300]} real={json.dumps(real)[:300]}"]
    ld, rd = lab["data"], real["data"]
    if ld["resultType"] != rd["resultType"]:
        return [f"resultType lab={ld['resultType']} real={rd['resultType']}"]
    if rd["resultType"] in ("scalar", "string"):
        ok = float(ld["result"][0]) == float(rd["result"][0]) and _close(ld["result"][1], rd["result"][1])
        return [] if ok else [f"scalar lab={ld['result']} real={rd['result']}"]
    diffs: list[str] = []

    def keyed(items: list[dict[str, Any]]) -> dict[str, dict[float, str]]:
        out: dict[str, dict[float, str]] = {}
        for item in items:
            key = json.dumps(item["metric"], sort_keys=True)
            if key in out:
                diffs.append(f"duplicate series {key}")
            out[key] = dict(_points(item))
        return out

    lk, rk = keyed(ld["result"]), keyed(rd["result"])
    for key in sorted(set(lk) | set(rk)):
        if key not in lk:
            diffs.append(f"missing in lab: {key} ({len(rk[key])} points)")
            continue
        if key not in rk:
            diffs.append(f"extra in lab: {key} ({len(lk[key])} points)")
            continue
        lp, rp = lk[key], rk[key]
        if set(lp) != set(rp):
            only_l = sorted(set(lp) - set(rp))[:3]
            only_r = sorted(set(rp) - set(lp))[:3]
            diffs.append(f"{key}: timestamps differ; lab-only {only_l} real-only {only_r}")
        bad = [(t, lp[t], rp[t]) for t in sorted(set(lp) & set(rp)) if not _close(lp[t], rp[t])]
        if bad:
            diffs.append(f"{key}: {len(bad)} values differ, e.g. {bad[:3]}")
    return diffs
