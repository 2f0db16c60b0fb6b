"""`compass faults`: the fault ids a verdict can name (FAULTS.md), with what each means."""

from __future__ import annotations

import argparse
import json
import tomllib
from importlib import resources
from typing import Any


def fault_meanings() -> dict[str, str]:
    text = resources.files("compass_cli").joinpath("fault_meanings.toml").read_text("utf-8")
    return {str(k): str(v) for k, v in tomllib.loads(text).items()}


def _run(args: argparse.Namespace) -> int:
    meanings = fault_meanings()
    if args.json:
        print(json.dumps([{"id": k, "meaning": v} for k, v in meanings.items()], indent=1))
        return 0
    width = max(len(k) for k in meanings)
    for fault_id, meaning in meanings.items():
        print(f"{fault_id:<{width}}  {meaning}")
    return 0


def add_faults_command(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("faults", help="list the fault ids a verdict can name, with their meaning")
    p.add_argument("--json", action="store_true", help="print a JSON array of {id, meaning}")
    p.set_defaults(func=_run)
