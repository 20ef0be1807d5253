"""The command line: arguments in, an exit code out.

Each command lives in `migrator/commands/<name>.py` (or its own package) and
exposes `configure(parser)` and `run(args) -> int`. This module only wires
them up, configures logging once, and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from migrator import __version__, log
from migrator.errors import EXIT_OK, MigratorError

# name -> (module, one-line help). Modules are imported only to build the parser.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("migrator.commands.check", "check local checkouts, offline; optionally fix them"),
    "plan": ("migrator.commands.plan", "scan an organisation and write a reviewable plan file"),
    "show": ("migrator.commands.show", "summarise a plan: what changes, where, and why"),
    "apply": ("migrator.commands.apply", "open one branch and pull request per repository of a plan"),
    "status": ("migrator.commands.status", "where the pull requests of an apply stand"),
    "rollback": ("migrator.commands.rollback", "undo the last apply: close PRs, delete branches, revert merges"),
    "sandbox": ("migrator.sandbox.command", "serve a local GitHub-compatible API from a seed folder"),
    "demo": ("migrator.commands.demo", "run plan, show, apply, status and rollback against a local sandbox"),
}


class Command(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(module_name: str) -> Command:
    return cast(Command, importlib.import_module(module_name))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migrator",
        description="Find and fix broken GitHub Actions release pipelines across an organisation.",
    )
    parser.add_argument("--version", action="version", version=f"migrator {__version__}")
    parser.add_argument("--log-json", action="store_true", help="log JSON lines to stderr even on a TTY")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug events")
    parser.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        _load(module_name).configure(command_parser)
        command_parser.set_defaults(_module=module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log.configure(json=True if args.log_json else None, verbose=args.verbose, quiet=args.quiet)
    try:
        return _load(args._module).run(args)
    except MigratorError as error:
        print(f"migrator: error: {log.redact(error.message)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("migrator: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `migrator ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
