"""Verdicts as a text table, JSON, or Markdown (repository content escaped)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict

from migrator.plan.markdown import code, escape
from migrator.verify.model import Judgement, Verdict

ORDER = (Verdict.BROKEN, Verdict.PENDING, Verdict.NOT_RELEASED, Verdict.VERIFIED, Verdict.NOT_MERGED)


def counts(judgements: Sequence[Judgement]) -> str:
    found = Counter(j.verdict for j in judgements)
    return ", ".join(f"{found[v]} {v}" for v in ORDER if found[v]) or "nothing to verify"


def text(judgements: Sequence[Judgement]) -> str:
    width = max([len(j.repo) for j in judgements] + [10])
    lines = [f"{'repository':<{width}}  {'verdict':<12} why"]
    for j in sorted(judgements, key=lambda j: (ORDER.index(j.verdict), j.repo)):
        lines.append(f"{j.repo:<{width}}  {j.verdict.value:<12} {j.summary}")
        lines.extend(f"{'':<{width}}  {'':<12}   {line}" for line in j.evidence)
        if j.next_step and j.verdict is not Verdict.VERIFIED:
            lines.append(f"{'':<{width}}  {'':<12}   next: {j.next_step}")
    lines.append(counts(judgements))
    return "\n".join(lines)


def as_json(judgements: Sequence[Judgement], plan: str) -> str:
    rows = [asdict(j) | {"verdict": j.verdict.value} for j in judgements]
    return json.dumps({"plan": plan, "summary": counts(judgements), "repositories": rows}, indent=2)


def markdown(judgements: Sequence[Judgement]) -> str:
    lines = ["| repository | verdict | why | next step |", "| --- | --- | --- | --- |"]
    for j in sorted(judgements, key=lambda j: (ORDER.index(j.verdict), j.repo)):
        name = f"[{escape(j.repo)}]({j.url})" if j.url.startswith("http") else escape(j.repo)
        lines.append(f"| {name} | {j.verdict.value} | {cell(j.summary)} | {cell(j.next_step)} |")
    broken = [j for j in judgements if j.verdict is Verdict.BROKEN]
    for j in broken:
        lines.extend(["", f"### {escape(j.repo)}: broken", "", *(f"- {code(e)}" for e in j.evidence)])
        if j.next_step:
            lines.append(f"- next: {escape(j.next_step)}")
    lines.extend(["", counts(judgements)])
    return "\n".join(lines) + "\n"


def cell(value: str) -> str:
    return escape(value)  # escapes `|` too, and joins lines
