"""The command line: arguments in, an exit code out.

Each command lives in `migrator/commands/<name>.py` (or its own package) and
exposes `configure(parser)`, `run(args) -> int` and `EXAMPLES`. This module only
wires them up in the gh style (global flags anywhere, `migrator help CMD`, an
unknown flag answered with that command's usage), configures logging once, and
maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol, cast

from migrator import __version__, log
from migrator.commands.common import command_parser_options, global_flags
from migrator.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, MigratorError

# name -> (module, one-line help). Modules are imported only to build the parser.
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("migrator.commands.plan", "scan an organisation and write a reviewable plan file"),
    "show": ("migrator.commands.show", "summarise a plan for its approver: what changes, where, and why"),
    "apply": ("migrator.commands.apply", "open one branch and pull request per repository of a plan"),
    "merge": ("migrator.commands.merge", "merge the pull requests the repositories' rules allow; say why not the rest"),
    "status": ("migrator.commands.status", "where the pull requests of an apply stand"),
    "rollback": ("migrator.commands.rollback", "undo the last apply: close PRs, delete branches, revert merges"),
    "verify": ("migrator.commands.verify", "did each merged fix make the release work: verified, pending, broken"),
    "report": ("migrator.commands.report", "the campaign as a picture: burndown, tables, evidence (HTML, Markdown)"),
    "check": ("migrator.commands.check", "check local checkouts, offline; optionally fix them"),
    "sandbox": ("migrator.sandbox.command", "serve a local GitHub-compatible API from a seed folder"),
    "demo": (
        "migrator.commands.demo",
        "a whole campaign on a local sandbox: plan, apply, merge, verify, report, rollback",
    ),
}
CAMPAIGN = ("plan", "show", "apply", "merge", "status", "verify", "report", "rollback")
SUBCOMMANDS = {"plan merge": "merge shard plans (`plan --shard K/N`) into one plan"}

TOP_EXAMPLES = """\
  $ migrator plan --org acme -o plan.json
  $ migrator show plan.json
  $ migrator apply plan.json --limit 5
  $ migrator status
  $ migrator rollback --dry-run
  $ migrator check ~/src/app --diff
  $ migrator demo"""


class Command(Protocol):
    EXAMPLES: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(module_name: str) -> Command:
    return cast(Command, importlib.import_module(module_name))


class _Parser(argparse.ArgumentParser):
    """Errors name the parser they belong to, so `migrator apply --bogus` shows apply's usage."""

    def error(self, message: str) -> NoReturn:
        if self.prog == "migrator plan" and "invalid choice" in message:  # `migrator plan acme`
            message = "plan takes the org as --org NAME (or `plan merge SHARD...`): e.g. `migrator plan --org acme`"
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _TopParser(_Parser):
    def format_help(self) -> str:
        width = max(len(name) for name in [*COMMANDS, *SUBCOMMANDS]) + 2

        def rows(names: Sequence[str]) -> list[str]:
            return [f"  {name:<{width}}{COMMANDS[name][1]}" for name in names]

        local = [name for name in COMMANDS if name not in CAMPAIGN]
        sub = [f"  {name:<{width}}{text}" for name, text in SUBCOMMANDS.items()]
        return "\n".join(
            [
                "Find and fix broken GitHub Actions release pipelines across an organisation, through pull requests.",
                "",
                "USAGE",
                "  migrator <command> [flags]",
                "",
                "CAMPAIGN COMMANDS",
                *rows(CAMPAIGN[:1]),
                *sub,
                *rows(CAMPAIGN[1:]),
                "",
                "LOCAL COMMANDS",
                *rows(local),
                "",
                "FLAGS (accepted before or after the command)",
                "  -v, --verbose   log debug events, and per-repository progress on a terminal",
                "  -q, --quiet     log only warnings and errors",
                "  --log-json      log JSON lines to stderr even on a terminal",
                "  --version       print the version",
                "  -h, --help      show help for migrator or a command",
                "",
                "EXAMPLES",
                TOP_EXAMPLES,
                "",
                "LEARN MORE",
                "  migrator help <command>, or migrator <command> --help",
                "  Exit codes: 0 done, 1 findings or a partial failure, 2 bad input (nothing done), 130 interrupted",
                "",
            ]
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _TopParser(prog="migrator", parents=[global_flags(suppress=False)], add_help=True)
    parser.add_argument("--version", action="version", version=f"migrator {__version__}", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        module = _load(module_name)
        command_parser = sub.add_parser(name, **command_parser_options(help_text, module.EXAMPLES))
        module.configure(command_parser)
        command_parser.set_defaults(_module=module_name, _parser=command_parser)
    sub.add_parser("help", help="show help for a command", add_help=False).add_argument(
        "topic", nargs="*", help="a command"
    )
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        owner: argparse.ArgumentParser = getattr(args, "_parser", parser)
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        parser.exit(EXIT_OK)
    if args.command == "help":
        _help(parser, args.topic)
    return args


def _help(parser: argparse.ArgumentParser, topic: list[str]) -> NoReturn:
    if not topic:
        parser.print_help()
        parser.exit(EXIT_OK)
    if topic[0] not in COMMANDS:
        parser.error(f"unknown command {topic[0]!r}; the commands are {', '.join(COMMANDS)}")
    parser.parse_args([*topic, "--help"])  # prints that (sub)command's help and exits 0
    raise AssertionError("unreachable: --help exits")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    log.configure(json=True if args.log_json else None, verbose=args.verbose, quiet=args.quiet)
    try:
        return _load(args._module).run(args)
    except MigratorError as error:
        print(f"migrator: error: {log.redact(error.message)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:  # commands that write say more (what was done, how to resume) through Interrupted
        print("migrator: interrupted; no file was left half-written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `migrator ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
