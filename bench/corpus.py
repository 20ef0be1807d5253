"""Score the rules against the real workflow corpus in ../shared/workflow-corpus.

    python bench/corpus.py [--corpus DIR] [--verbose]

Files of one repository at one commit form one snapshot (so cross-file evidence
and keeper workflows are seen together). A file "has" a rule when the rule
reports an error or warning located in it; notes do not count. Rows whose
expected finding is `other` are listed but not scored. Prints precision and
recall per rule and every disagreement with the manifest.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from migrator.checker import check_snapshot
from migrator.local import branch_from_workflows
from migrator.model import RepoSnapshot, Severity

RULES = ("token-mismatch", "redundant-docker")
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "workflow-corpus"


@dataclass(frozen=True)
class Row:
    category: str
    repo: str
    path: str
    commit: str
    expected: str
    note: str
    saved_as: str


def load(corpus: Path) -> list[Row]:
    with (corpus / "MANIFEST.tsv").open(newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Row(r["category"], r["repo"], r["path"], r["commit"], r["expected_finding"], r["note"], r["saved_as"])
            for r in reader
        ]


def predictions(corpus: Path, rows: list[Row]) -> dict[Row, set[str]]:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row.repo, row.commit)].append(row)
    found: dict[Row, set[str]] = {}
    for (repo, _commit), members in sorted(groups.items()):
        files = {row.path: (corpus / row.saved_as).read_bytes() for row in members}
        snapshot = RepoSnapshot.of(repo, files)
        # As `check` does without origin/HEAD: the default branch inferred from the workflows' push triggers.
        snapshot = replace(snapshot, default_branch=branch_from_workflows(dict(snapshot.files)))
        report = check_snapshot(snapshot)
        for row in members:
            found[row] = {
                f.rule
                for f in report.findings
                if f.location.path == row.path and f.severity is not Severity.NOTE and f.rule in RULES
            }
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"corpus: no MANIFEST.tsv under {args.corpus}", file=sys.stderr)
        return 2
    rows = load(args.corpus)
    found = predictions(args.corpus, rows)
    print(f"corpus: {len(rows)} files, {len({(r.repo, r.commit) for r in rows})} snapshots")
    print(f"{'rule':<18} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>9} {'recall':>7}")
    disagreements: list[str] = []
    for rule in RULES:
        tp = fp = fn = 0
        for row in rows:
            if row.expected == "other":
                continue
            hit, want = rule in found[row], row.expected == rule
            tp += hit and want
            fp += hit and not want
            fn += want and not hit
            if hit != want:
                kind = "false positive" if hit else "false negative"
                disagreements.append(f"  {kind:<14} {rule:<16} {row.category}  {row.saved_as}")
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"{rule:<18} {tp:>3} {fp:>3} {fn:>3} {precision:>9.2f} {recall:>7.2f}")
    print(f"disagreements with the manifest: {len(disagreements)}")
    print("\n".join(disagreements))
    others = [row for row in rows if row.expected == "other"]
    print(f"unscored ('other') rows: {len(others)}")
    for row in others:
        print(f"  {','.join(sorted(found[row])) or 'no finding':<16} {row.category}  {row.saved_as}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
