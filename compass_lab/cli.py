"""`compass lab ...` subcommands: list scenarios, serve them through the Grafana-compatible API, print an
mcp-grafana config. Scenario modules are imported lazily: they are heavy and only these commands need them."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from compass_lab.datasets import DATASETS, DEFAULT_DATASET, Dataset, UnknownDatasetError, load_dataset
from compass_lab.model import Scenario, Split

if TYPE_CHECKING:
    from compass_lab.server import LabRegistry

EXIT_USAGE = 2


class _CLIError(Exception):
    """A user-facing failure: printed as one line on stderr, exit code 2."""


def _dataset(name: str) -> Dataset:
    try:
        return load_dataset(name)
    except UnknownDatasetError as err:
        raise _CLIError(str(err)) from None


def _all_scenarios(dataset: str = DEFAULT_DATASET) -> list[Scenario]:
    return _dataset(dataset).scenarios()


def _registry(default_id: str | None, dataset_name: str) -> LabRegistry:
    from compass_lab.server import LabRegistry, UnknownScenarioError

    dataset = _dataset(dataset_name)
    scenarios = dataset.scenarios()
    if default_id is not None and default_id not in {s.id for s in scenarios}:
        raise _CLIError(f"unknown scenario {default_id!r} (see `compass lab list --dataset {dataset_name}`)")
    try:
        return LabRegistry(scenarios, dataset.build_telemetry, default_id)
    except (UnknownScenarioError, ValueError) as err:
        raise _CLIError(str(err)) from None


def _wrap(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except _CLIError as err:
            print(f"compass: error: {err}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _cmd_list(args: argparse.Namespace) -> int:
    scenarios = _all_scenarios(args.dataset)
    if args.split:
        scenarios = [s for s in scenarios if s.split == Split(args.split)]
    if args.json:
        print(json.dumps([s.model_dump(mode="json") for s in scenarios], indent=2))
        return 0
    for s in scenarios:
        modalities = "+".join(
            ["metrics", *(["logs"] if s.has_logs else []), *(["traces"] if s.has_traces else [])]
        )
        print(f"{s.id}\t{s.split.value}\t{s.kind.value}\t{modalities}\t{s.title}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from compass_lab.server import LabServerError, create_app, mcp_config
    from compass_lab.server.runner import bind_socket

    registry = _registry(args.scenario, args.dataset)
    try:
        sock = bind_socket(args.host, args.port)
    except LabServerError as err:
        raise _CLIError(str(err)) from None
    url = f"http://{args.host}:{sock.getsockname()[1]}"
    print(f"COMPASS lab serving {len(registry.scenario_ids)} scenarios at {url}", flush=True)
    print(f"default scenario: {registry.default_id}; any scenario: {url}/s/<scenario_id>", flush=True)
    print(json.dumps(mcp_config(url, registry.default_id), indent=2), flush=True)
    config = uvicorn.Config(create_app(registry), log_level="warning", access_log=False, lifespan="off")
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    return 0


def _cmd_mcp_config(args: argparse.Namespace) -> int:
    from compass_lab.server import mcp_config

    if args.scenario is not None and args.scenario not in {s.id for s in _all_scenarios(args.dataset)}:
        raise _CLIError(f"unknown scenario {args.scenario!r} (see `compass lab list`)")
    print(json.dumps(mcp_config(f"http://{args.host}:{args.port}", args.scenario), indent=2))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from compass_lab.bench.run import run_bench
    from compass_worker.reasoners.settings import load_llm_settings
    from compass_worker.settings import load_settings

    splits = args.split or ["dev", "heldout"]
    out = Path(args.out) if args.out else None
    settings, llm = load_settings(), load_llm_settings()  # COMPASS_LLM as investigate/demo read it
    run_bench(
        splits,
        settings,
        out,
        args.concurrency,
        args.only,
        dataset=args.dataset,
        llm=llm,
        baselines=not args.no_baselines,
    )
    return 0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {value}")
    return value


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid concurrency {text!r}: a number from 1 to 16") from None
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"concurrency out of range: {value} (1-16)")
    return value


def _dataset_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        choices=sorted(DATASETS),
        help=f"which scenarios: {'; '.join(f'{d.name}: {d.description}' for d in DATASETS.values())}",
    )


def add_lab_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `lab list|serve|mcp-config` on a `compass` CLI's subparsers."""
    lab = subparsers.add_parser("lab", help="incident scenarios served through a Grafana-compatible API")
    sub = lab.add_subparsers(dest="lab_command", required=True)

    p_list = sub.add_parser(
        "list", help="list the lab's incident scenarios (id, split, kind, telemetry, title)"
    )
    p_list.add_argument("--split", choices=[s.value for s in Split], help="only this split")
    _dataset_option(p_list)
    p_list.add_argument("--json", action="store_true", help="print scenario metadata as JSON")
    p_list.set_defaults(func=_wrap(_cmd_list))

    p_serve = sub.add_parser("serve", help="serve every scenario (Ctrl-C to stop)")
    p_serve.add_argument("--scenario", help="scenario served at the root URL (default: the first)")
    p_serve.add_argument("--port", type=_port, default=3000, help="port to listen on (default 3000; 0 = any)")
    p_serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    _dataset_option(p_serve)
    p_serve.set_defaults(func=_wrap(_cmd_serve))

    p_cfg = sub.add_parser("mcp-config", help="print an mcpServers config for mcp-grafana against the lab")
    p_cfg.add_argument("--port", type=_port, required=True, help="the port `compass lab serve` listens on")
    p_cfg.add_argument("--host", default="127.0.0.1", help="the lab's address (default 127.0.0.1)")
    p_cfg.add_argument("--scenario", help="scenario id (default: the server's default scenario)")
    _dataset_option(p_cfg)
    p_cfg.set_defaults(func=_wrap(_cmd_mcp_config))

    p_bench = sub.add_parser("bench", help="accuracy/latency benchmark of the engine over lab splits")
    p_bench.add_argument(
        "--split",
        action="append",
        choices=[s.value for s in Split],
        help="which split (repeatable; default both)",
    )
    p_bench.add_argument("--out", help="directory for JSON results")
    p_bench.add_argument(
        "--concurrency", type=_concurrency, default=1, help="investigations at once, 1-16 (default 1)"
    )
    p_bench.add_argument("--only", help="only scenarios whose id contains this text")
    p_bench.add_argument(
        "--no-baselines",
        action="store_true",
        help="skip the BARO-style and max-z baselines (their columns read 0; quicker while iterating)",
    )
    _dataset_option(p_bench)
    p_bench.set_defaults(func=_cmd_bench)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (`python -m compass_lab.cli lab ...`) until the `compass` CLI mounts these."""
    parser = argparse.ArgumentParser(prog="compass")
    add_lab_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
