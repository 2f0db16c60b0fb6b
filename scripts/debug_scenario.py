"""Developer aid: run the engine on one lab scenario and dump what it observed and how it judged.

`python scripts/debug_scenario.py SCENARIO_ID [--dataset lab|nezha-dev|random] [--top N] [-v]`"""

import asyncio
import sys

from compass_lab.datasets import load_dataset
from compass_lab.harness import incident_for, scenario_mcp_config
from compass_lab.server import LabRegistry
from compass_lab.server.runner import LabServer
from compass_worker.domain.events import NullSink
from compass_worker.engine import investigation
from compass_worker.engine.investigation import Investigator
from compass_worker.runner import Catalogs, grafana_server
from compass_worker.settings import Settings
from compass_worker.telemetry.allowlist import AllowlistToolset
from compass_worker.telemetry.grafana.client import GrafanaClient
from compass_worker.telemetry.session import open_toolsets


def _arg(flag: str, default: str) -> str:
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else default


async def main(sid: str, dataset_name: str) -> None:
    dataset = load_dataset(dataset_name)
    s = {x.id: x for x in dataset.scenarios()}[sid]
    print(
        s.title, "|", s.symptom, "| truth", s.truth_component, s.truth_fault, "| onset", s.onset, "at", s.at
    )
    print(
        "red herrings:", s.red_herrings, "| logs", s.has_logs, "traces", s.has_traces, "conv", s.conventions
    )
    cats = Catalogs.load(Settings())
    with LabServer(LabRegistry([s], dataset.build_telemetry, s.id)) as lab:
        async with open_toolsets(scenario_mcp_config(lab.url, s)) as pool:
            server = await grafana_server(pool)
            inv = Investigator(
                GrafanaClient(AllowlistToolset(pool), server=server), cats.signals, cats.faults
            )
            captured = {}
            orig = investigation.verdict

            async def spy(kit, run, scored):  # type: ignore[no-untyped-def]
                captured["run"], captured["scored"] = run, scored
                return await orig(kit, run, scored)

            investigation.verdict = spy  # type: ignore[assignment]
            v = await inv.run(incident_for(s), NullSink())
    run, scored = captured["run"], captured["scored"]
    obs = run.obs
    print("symptom", run.symptom, "onset", run.onset, "(truth onset", s.onset, ")")
    print("kinds", dict(sorted(obs.kinds.items())))
    print("edges", sorted(obs.edges))
    print("versions", obs.versions)
    print("hosts", dict(obs.hosts))
    print("gaps", obs.gaps, "notes", obs.notes[:5])
    print("inferred", obs.inferred)
    print("--- anomalous series")
    for (c, sig, p), ser in sorted(obs.series.items(), key=lambda kv: kv[0][:2]):
        a = ser.anomaly()
        if a and (a.anomalous or "-v" in sys.argv):
            on = f"{(a.onset - s.onset) if a.onset and s.onset else a.onset}"
            print(
                f"  {c:28} {sig:22} {p or '':20} base={a.baseline:.4g} peak={a.peak:.4g} "
                f"z={a.z_peak:.1f} onset_rel={on}"
            )
            if "-q" in sys.argv:
                print("      ", ser.query[:200])
    print("--- traces", [(t.component, t.kind, round(t.value, 2)) for t in obs.traces])
    print("--- log rules checked", len(obs.log_rules_checked), "mentions", obs.mentions)
    print(
        "--- queries",
        [r.query[:90] for r in inv.last_source.records if "kafka" in r.query or "lag" in r.query],
    )
    print(
        "--- failed queries",
        [(r.query[:80], r.error[:120]) for r in inv.last_source.records if r.outcome == "failed"][:5],
    )
    print("--- top hypotheses")
    for sc in sorted(scored, key=lambda x: -x.hypothesis.score)[: int(_arg("--top", "12"))]:
        h = sc.hypothesis
        print(f"  {h.score:6.2f} {h.status.value:10} {h.id}  {h.refuted_because or ''}")
        for e in h.evidence[: int(_arg("--ev", "5"))]:
            print(f"           {e.stance.value:8} {e.weight:5.2f} {e.observation[:140]}")
    print("verdict", v.verdict, [(r.component, r.fault, r.confidence) for r in v.root_causes[:3]])
    print("verdict gaps", v.gaps)
    if "--causes" in sys.argv:
        for r in v.root_causes:
            print(f"  cause {r.component}/{r.fault} {r.confidence}: {r.summary[:160]}")
            for e in r.evidence:
                print(f"           {e.stance.value:8} {e.weight:5.2f} {e.observation[:140]}")


asyncio.run(main(sys.argv[1], _arg("--dataset", "lab")))
