"""`migrator check PATH...`: run the rules on local checkouts, offline.

Exit codes: 0 clean (or everything fixed), 1 findings remain, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from migrator import __version__, lint
from migrator.analysis.context import DEFAULT_DOCKER_CANDIDATES, RuleSettings
from migrator.checker import FileChange, Report, apply_fixes, check_snapshot
from migrator.errors import EXIT_FINDINGS, EXIT_OK, InputError, UsageError
from migrator.local import load_checkout
from migrator.model import Finding, RepoFile, RepoSnapshot, Severity, is_workflow_path
from migrator.rules import REGISTRY, default_rule_ids
from migrator.serialize import finding_dict


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    paths: tuple[Path, ...]
    show_diff: bool
    fix: bool
    include_review: bool
    output_format: str
    rules: tuple[str, ...]
    settings: RuleSettings
    default_branch: str | None
    lint: bool = False


EXAMPLES = """\
  $ migrator check ~/src/app                  # findings, one a line
  $ migrator check ~/src/app --diff           # and the fixes as a diff
  $ migrator check ~/src/* --fix              # write the safe fixes
  $ migrator check . --format json --pat-secret RELEASE_PAT
  $ migrator check . --rule release-app-token --app-client-id-secret vars.RELEASE_APP_ID \\
        --app-key-secret RELEASE_APP_KEY --diff --lint   # opt-in: release with a GitHub App token
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a repository checkout")
    parser.add_argument("--diff", action="store_true", help="print the unified diff of the fixes")
    parser.add_argument("--fix", action="store_true", help="write the fixes to the checkout")
    parser.add_argument("--include-review", action="store_true", help="also apply fixes marked `review`")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        dest="output_format",
        help="text (one finding a line) or json",
    )
    parser.add_argument("--pat-secret", metavar="NAME", help="the org's release PAT secret, when the files name none")
    parser.add_argument(
        "--rule",
        action="append",
        choices=sorted(REGISTRY),
        help="run only this rule (repeatable); opt-in rules such as release-app-token run only when named",
    )
    add_app_arguments(parser)
    parser.add_argument(
        "--lint",
        action="store_true",
        help="run zizmor (offline) and actionlint on every proposed file, when they are installed",
    )
    parser.add_argument(
        "--docker-glob",
        action="append",
        metavar="GLOB",
        help=f"workflow names that may duplicate the main Docker job (default: {' '.join(DEFAULT_DOCKER_CANDIDATES)})",
    )
    parser.add_argument("--default-branch", metavar="NAME", help="default branch (read from .git when omitted)")


def add_app_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The release-app-token rule's knobs, shared by check and plan."""
    parser.add_argument(
        "--app-client-id-secret",
        metavar="NAME",
        help="release-app-token: where the App's id or client id is kept: NAME or secrets.NAME (a secret), "
        "vars.NAME (a variable); default: what the repository already uses, else vars.RELEASE_APP_ID",
    )
    parser.add_argument(
        "--app-key-secret",
        metavar="NAME",
        help="release-app-token: the secret holding the App's private key (default RELEASE_APP_PRIVATE_KEY)",
    )
    parser.add_argument(
        "--app-slug",
        metavar="SLUG",
        help="release-app-token: the release App's slug, so preflight can find its installation and bypass entries",
    )


def app_settings(args: argparse.Namespace) -> dict[str, Any]:
    """RuleSettings fields from --rule and the --app-* flags (opt-in rules asked for, App names)."""
    client = getattr(args, "app_client_id_secret", None)
    if client is not None:
        kind, _, name = client.rpartition(".")
        if kind not in ("", "secrets", "vars"):
            raise UsageError(f"--app-client-id-secret {client!r}: give NAME, secrets.NAME or vars.NAME")
        valid_secret_name(name, flag="--app-client-id-secret")
        client = f"{kind or 'secrets'}.{name}"
    key = valid_secret_name(getattr(args, "app_key_secret", None), flag="--app-key-secret")
    slug = getattr(args, "app_slug", None)
    if slug is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
        raise UsageError(f"--app-slug {slug!r} is not an App slug (lower-case letters, digits and -)")
    rules = tuple(dict.fromkeys(getattr(args, "rule", None) or ()))
    return {"rules": rules, "app_client_id": client, "app_key_secret": key, "app_slug": slug}


def valid_secret_name(name: str | None, *, flag: str = "--pat-secret") -> str | None:
    if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UsageError(f"{flag} {name!r} is not a secret name (letters, digits and _, not starting with a digit)")
    if name is not None and name.upper().startswith("GITHUB_"):
        raise UsageError(f"{flag} {name!r}: GitHub reserves the GITHUB_ prefix; name the secret itself")
    return name


def options(args: argparse.Namespace) -> CheckOptions:
    pat = valid_secret_name(args.pat_secret)
    if args.docker_glob is not None and not all(g.strip() for g in args.docker_glob):
        raise UsageError("--docker-glob needs a pattern such as 'docker*.yml'")
    settings = RuleSettings(
        pat_secret=pat,
        docker_candidates=tuple(args.docker_glob or DEFAULT_DOCKER_CANDIDATES),
        **app_settings(args),
    )
    return CheckOptions(
        paths=tuple(dict.fromkeys(Path(os.path.normpath(p)) for p in args.paths)),
        show_diff=args.diff,
        fix=args.fix,
        include_review=args.include_review,
        output_format=args.output_format,
        rules=tuple(args.rule or default_rule_ids()),
        settings=settings,
        default_branch=args.default_branch,
        lint=args.lint,
    )


@dataclass(frozen=True)
class Outcome:
    root: Path
    snapshot: RepoSnapshot
    report: Report
    changes: tuple[FileChange, ...]
    unfixed: tuple[Finding, ...]  # problems whose fix was not applied (or that have none)


def run(args: argparse.Namespace) -> int:
    opts = options(args)
    outcomes = [_check_one(root, opts) for root in opts.paths]  # every path is read before anything is written
    if opts.fix:
        _write_all(outcomes)
    if opts.output_format == "json":
        json.dump(_as_json(outcomes, opts), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        _print_text(outcomes, opts)
    added = _lint_all(outcomes, to=sys.stderr if opts.output_format == "json" else sys.stdout) if opts.lint else 0
    remaining = [f for o in outcomes for f in (o.unfixed if opts.fix else o.report.problems())]
    return EXIT_FINDINGS if remaining or added else EXIT_OK


def _check_one(root: Path, opts: CheckOptions) -> Outcome:
    snapshot = load_checkout(root, default_branch=opts.default_branch, pat_secret=opts.settings.pat_secret)
    rules = [REGISTRY[rule_id] for rule_id in opts.rules]
    report = check_snapshot(snapshot, opts.settings, rules=rules)
    fixes = report.fixes(include_review=opts.include_review)
    texts = {path: f.content.decode("utf-8", errors="surrogateescape") for path, f in snapshot.files.items()}
    changes, collided = apply_fixes(texts, fixes)
    applied = {id(fix) for fix in fixes} - {id(fix) for fix in collided}
    unfixed = tuple(f for f in report.problems() if not any(id(fix) in applied for fix in f.fixes))
    if changes and unfixed:
        # A finding may be resolved by another one's fix (a keeper's race ends when its duplicate goes):
        # what is left is what the fixed files still show.
        unfixed = tuple(check_snapshot(_fixed(snapshot, changes), opts.settings, rules=rules).problems())
    return Outcome(root, snapshot, report, tuple(changes), unfixed)


def _fixed(snapshot: RepoSnapshot, changes: list[FileChange]) -> RepoSnapshot:
    files = dict(snapshot.files)
    for change in changes:
        if change.after is None:
            files.pop(change.path, None)
        else:
            data = change.after.encode("utf-8", errors="surrogateescape")
            files[change.path] = RepoFile(change.path, data)
    return replace(snapshot, files=files)


def _write_all(outcomes: list[Outcome]) -> None:
    """Check every target first, then write edits before deletions, each file atomically.

    A failure part-way (a file made read-only meanwhile) says exactly which changes were written.
    """
    targets = [(o.root, c) for o in outcomes for c in sorted(o.changes, key=lambda c: (c.after is None, c.path))]
    for root, change in targets:
        problem = _unwritable(root, change.path)
        if problem:
            raise InputError(f"cannot write {root / change.path}: {problem}; nothing was changed")
    written: list[str] = []
    for root, change in targets:
        try:
            _write_one(root, change)
        except OSError as error:
            done = f"{len(written)} of {len(targets)} file changes were written ({', '.join(written) or 'none'})"
            raise InputError(
                f"writing {root / change.path} failed ({error.strerror or error}); {done}; fix it and re-run"
            ) from None
        written.append(str(root / change.path))


def _unwritable(root: Path, path: str) -> str | None:
    target = root / path
    if not target.resolve().is_relative_to(root.resolve()):
        return "it lies outside the checkout (a symbolic link); not following it"
    if not os.access(target.parent, os.W_OK):
        return "its folder is not writable"
    if target.exists() and not os.access(target, os.W_OK):
        return "it is not writable"
    return None


def _write_one(root: Path, change: FileChange) -> None:
    """Atomically: a crash leaves the file either old or new."""
    target = root / change.path
    if change.after is None:
        target.unlink(missing_ok=True)
        return
    data = change.after.encode("utf-8", errors="surrogateescape")
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".migrator")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, target.stat().st_mode & 0o7777)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _lint_all(outcomes: list[Outcome], *, to: TextIO) -> int:
    """zizmor and actionlint on every proposed file: what each fix adds to what the file had (their count)."""
    tools = lint.installed()
    missing = [name for name, where in tools.items() if where is None]
    if missing:
        print(
            f"lint: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed, so not run "
            "(pip install -e '.[dev,lint]' in a checkout, or put them on PATH)",
            file=sys.stderr,
        )
    if len(missing) == len(tools):
        return 0
    count = 0
    for outcome in outcomes:
        for change in outcome.changes:
            if change.after is None or not is_workflow_path(change.path):
                continue
            before = outcome.snapshot.files[change.path].content.decode("utf-8", "surrogateescape")
            was = lint.lint(change.path, before, tools)
            added = lint.new_findings(was, lint.lint(change.path, change.after, tools))
            where = outcome.root / change.path
            count += len(added)
            if not added:
                print(printable(f"lint: {where}: no new findings"), file=to)
            for item in added:
                print(printable(f"lint: {where}: new {item.tool} finding {item.rule}: {item.message}"), file=to)
    return count


def _display(root: Path, path: str, many: bool) -> str:
    return str(root / path) if many or str(root) != "." else path


def _print_text(outcomes: list[Outcome], opts: CheckOptions) -> None:
    many = len(outcomes) > 1
    for outcome in outcomes:
        if not outcome.snapshot.workflow_paths() and not outcome.snapshot.skipped:
            print(f"{outcome.root}: no workflow files under .github/workflows", file=sys.stderr)
        for finding in outcome.report.findings:
            print(_finding_line(outcome.root, finding, many))
            for line in finding.evidence:
                print(printable(f"    evidence: {line}"))
            fix_notes = [note for fix in finding.fixes for note in fix.notes]
            for note in [*fix_notes, *(n for n in finding.notes if n not in fix_notes)]:
                print(printable(f"    note: {note}"))
        if opts.show_diff:
            for change in outcome.changes:
                sys.stdout.write(change.diff())
    print(_summary(outcomes, opts))


def _finding_line(root: Path, finding: Finding, many: bool) -> str:
    safety = "/".join(sorted({fix.safety.value for fix in finding.fixes})) or "no fix"
    label = finding.severity.value if finding.severity is not Severity.ERROR else safety
    return printable(f"{_display(root, str(finding.location), many)}: {finding.rule} [{label}] {finding.message}")


def printable(text: str) -> str:
    """Repository content may hold terminal escapes or newlines; show them, never obey them."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in text)


def _summary(outcomes: list[Outcome], opts: CheckOptions) -> str:
    problems = [f for o in outcomes for f in o.report.problems()]
    notes = sum(1 for o in outcomes for f in o.report.findings if f.severity is Severity.NOTE)
    files = sum(len(o.changes) for o in outcomes)
    review_only = sum(1 for f in problems if f.fixes and all(x.safety.value == "review" for x in f.fixes))
    hint = f"; {review_only} need --include-review" if review_only and not opts.include_review else ""
    if not problems:
        return f"no findings ({notes} note(s))" if notes else "no findings"
    if opts.fix:
        left = sum(len(o.unfixed) for o in outcomes)
        fixed = max(len(problems) - left, 0)
        return f"fixed {fixed} of {len(problems)} finding(s) in {files} file(s); {left} left{hint}"
    fixable = sum(1 for f in problems if f.fixes)
    return f"{len(problems)} finding(s), {fixable} fixable, {files} file(s) would change{hint}; {notes} note(s)"


def _as_json(outcomes: list[Outcome], opts: CheckOptions) -> dict[str, Any]:
    return {
        "format_version": 1,
        "tool": f"migrator {__version__}",
        "settings": opts.settings.as_dict(),
        "repositories": [
            {
                "path": str(o.root),
                "name": o.snapshot.name,
                "findings": [finding_dict(f) for f in o.report.findings],
                "changes": [
                    {"path": c.path, "action": c.action, **({"diff": c.diff()} if opts.show_diff else {})}
                    for c in o.changes
                ],
                "fixed": opts.fix,
                "unfixed": len(o.unfixed),
            }
            for o in outcomes
        ],
    }
