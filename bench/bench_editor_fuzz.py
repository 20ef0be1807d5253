"""The surgical editor on fuzzed workflow files, side by side with a ruamel.yaml round-trip of the same texts.

    python bench/bench_editor_fuzz.py [--examples 2000]

Draws N workflow files from the property tests' strategies (tests/workflow/strategies.py: a release
job pushing with GITHUB_TOKEN where a PAT is declared, unrelated jobs, written in many YAML styles),
deterministically, then for each file:

  migrator   run the token-mismatch rule and apply its fixes to the text (timed)
  oracle     the property test's assertions: the intended semantics, untouched bytes, idempotence
  baseline   ruamel.yaml round-trip (preserve_quotes): load, set the same new values, dump (timed)

and prints how many cases had edits, the styles covered, failures (must be 0), cases per second, and
how many round-trips changed bytes outside the token sites, which is why the editor exists.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.workflow.strategies

from hypothesis import HealthCheck, Phase, given, settings
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from tests.workflow.strategies import Case, apply, check_token_case, load_yaml, token_cases, token_fixes

STYLES = (
    ("crlf", "CRLF line endings"),
    ("bom", "byte-order mark"),
    ("indent-4", "4-space indentation"),
    ("indentless-seq", "indentless `- ` sequences"),
    ("flow", "flow collections"),
    ("multiline-flow", "multi-line flow collections"),
    ("single", "single-quoted scalars"),
    ("double", "double-quoted scalars"),
    ("literal", "`|` run scripts"),
    ("folded", "`>-` values"),
    ("literal-line", "`|-` values"),
    ("wrapped", "scalars folded over lines"),
    ("quoted-on", 'quoted "on" key'),
    ("tab", "tabs after `key:` / before comments"),
    ("comment", "full-line comments"),
    ("trailing-comment", "trailing comments"),
    ("space-before-colon", "`key :`"),
    ("doc-start", "`---`"),
    ("doc-end", "`...`"),
    ("no-final-newline", "no final newline"),
    ("spacing-tight", "`${{secrets.X}}` spacing"),
    ("spacing-mixed", "mixed `${{ }}` spacing"),
)


def draw_cases(examples: int) -> list[Case]:
    cases: list[Case] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(token_cases())
    def collect(case: Case) -> None:
        cases.append(case)

    collect()
    return cases


def surgical(text: str) -> str:
    return apply(text, token_fixes(text))


def _patched(node: Any, target: Any) -> Any:
    """node (round-trip data) with the values of target (what the fixed file reads as) set into it."""
    if isinstance(node, CommentedMap) and isinstance(target, dict):
        for key, value in target.items():
            new = _patched(node[key], value) if key in node else value
            if new is not node.get(key):
                node[key] = new
        return node
    if isinstance(node, CommentedSeq) and isinstance(target, list):
        for index, value in enumerate(target):
            new = _patched(node[index], value)
            if new is not node[index]:
                node[index] = new
        return node
    if type(node) is not str and isinstance(node, str) and isinstance(target, str) and node != target:
        return type(node)(target)  # keep the quoting style of a quoted scalar
    return node if node == target and type(node) is type(target) else target


def round_trip(text: str, target: Any) -> tuple[str, bool]:
    """The round-tripped text, and whether tabs had to become spaces first (ruamel rejects `key:<TAB>value`)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        data, detabbed = yaml.load(text), False
    except YAMLError:
        data, detabbed = yaml.load(text.replace("\t", " ")), True
    data = _patched(data, target)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), detabbed


def _what_changed(original: str, ours: str, theirs: str, detabbed: bool) -> list[str]:
    found = ["tabs replaced by spaces to load at all"] if detabbed else []
    if ours.count("\r\n") != theirs.count("\r\n"):
        found.append("CRLF line endings lost (some or all)")
    if ours.count("#") != theirs.count("#"):
        found.append("comments lost")
    if original.count("\t") != theirs.count("\t") and not detabbed:
        found.append("tabs lost")
    if original.startswith("\ufeff") and not theirs.startswith("\ufeff"):
        found.append("BOM lost")
    if ours.count("{") != theirs.count("{") or ours.count("[") != theirs.count("["):
        found.append("flow style changed")
    return found or ["other reformatting (indentation, quoting, line folding)"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    args = parser.parse_args()

    start = time.perf_counter()
    cases = draw_cases(args.examples)
    drawing = time.perf_counter() - start

    ours_seconds = theirs_seconds = oracle_seconds = 0.0
    with_edits = sites = insertions = failures = rt_differs = 0
    first_failure = ""
    reasons: Counter[str] = Counter()
    styles: Counter[str] = Counter()
    for case in cases:
        styles.update(case.features)
        t0 = time.perf_counter()
        fixed = surgical(case.text)
        t1 = time.perf_counter()
        try:
            check_token_case(case)
        except AssertionError as error:
            failures += 1
            first_failure = first_failure or f"{error}"
        t2 = time.perf_counter()
        ours_seconds += t1 - t0
        oracle_seconds += t2 - t1
        with_edits += fixed != case.text
        sites += len(case.sites)
        insertions += case.insertions
        target = load_yaml(fixed)
        t3 = time.perf_counter()
        theirs, detabbed = round_trip(case.text, target)
        theirs_seconds += time.perf_counter() - t3
        if theirs != fixed:
            rt_differs += 1
            reasons.update(_what_changed(case.text, fixed, theirs, detabbed))

    n = len(cases)
    print(f"fuzz cases run: {n:,} (drawn in {drawing:.1f}s), {sum(len(c.text) for c in cases) / 1e6:.2f} MB of YAML")
    print(f"cases with edits: {with_edits:,}  (token sites {sites:,}, `token:` insertions {insertions:,})")
    print(f"styles covered: {sum(1 for key, _ in STYLES if styles[key])} of {len(STYLES)}")
    for key, label in STYLES:
        print(f"  {label:<38} {styles[key]:>6,}")
    print(f"failures: {failures}" + (f"  (first: {first_failure.splitlines()[0]})" if failures else ""))
    print()
    print(f"{'':<34} {'seconds':>8} {'cases/s':>9}")
    for name, seconds in (
        ("migrator: check + surgical fix", ours_seconds),
        ("ruamel round-trip: load+set+dump", theirs_seconds),
        ("oracle: the property's assertions", oracle_seconds),
    ):
        print(f"{name:<34} {seconds:>8.2f} {n / seconds:>9,.0f}")
    print(f"round-trip time / surgical fix time: {theirs_seconds / ours_seconds:.2f}x")
    print(f"round-trips that changed bytes outside the token sites: {rt_differs:,} of {n:,} ({rt_differs / n:.0%})")
    for reason, count in reasons.most_common():
        print(f"  {reason:<56} {count:>6,}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
