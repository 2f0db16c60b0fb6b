"""Developer aid: list the scenarios the last benchmark got wrong (bench-results/bench-latest.json)."""

import json
import sys

with open(sys.argv[1] if len(sys.argv) > 1 else "bench-results/bench-latest.json") as fh:
    d = json.load(fh)
for r in d["rows"]:
    truth = (r["component"], r["fault"])
    top = [(c, f, round(p, 2)) for c, f, p in r["ranked"][:3]]
    ok = bool(top) and (top[0][0], top[0][1]) == truth and r["verdict"] == "root_cause"
    if r["fault"] is None:
        ok = r["verdict"] == "inconclusive"
    if not ok:
        print(f"{r['scenario_id']:46} truth={truth[0]}/{truth[1]} {r['verdict'][:5]} top={top}")
