"""`compass completion bash|zsh|tcsh`: a shell completion script generated from the argparse tree (shtab).

compass completion bash > ~/.local/share/bash-completion/completions/compass
compass completion zsh  > "${fpath[1]}/_compass"
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

SHELLS = ("bash", "zsh", "tcsh")


def add_completion_command(
    sub: argparse._SubParsersAction[Any], build_parser: Callable[[], argparse.ArgumentParser]
) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh or tcsh)")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete for")

    def run(args: argparse.Namespace) -> int:
        import shtab

        print(shtab.complete(build_parser(), shell=args.shell, root_prefix="compass"))
        return 0

    p.set_defaults(func=run)
