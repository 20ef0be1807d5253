"""verify's outputs: the text table leads with what needs a person, Markdown cannot be broken out of."""

from __future__ import annotations

import json
import re

from migrator.verify import render
from migrator.verify.model import Judgement, Verdict

JUDGED = [
    Judgement("acme/a", Verdict.VERIFIED, "released v1.0.0 as release-bot", ("run https://x/1: success",),
              url="https://github.com/acme/a/pull/1"),
    Judgement("acme/b", Verdict.BROKEN, "failed: <img src=x> @team `x` | y", ("log ``` line",), "fix | it",
              "https://github.com/acme/b/pull/2"),
]


def test_text_puts_broken_first_with_evidence_and_next_step() -> None:
    lines = render.text(JUDGED).splitlines()
    assert lines[1].startswith("acme/b") and "broken" in lines[1]
    assert any("next: fix | it" in line for line in lines)
    assert lines[-1] == "1 broken, 1 verified"


def test_markdown_escapes_repository_content() -> None:
    text = render.markdown(JUDGED)
    assert not re.search(r"(?<!\\)<img", text) and "\\@team" in text
    assert not re.search(r"(?<!\\)\| y", text)  # a pipe cannot end the cell
    assert "- ````log ``` line````" in text


def test_json_carries_every_field() -> None:
    answer = json.loads(render.as_json(JUDGED, "plan.json"))
    assert answer["summary"] == "1 broken, 1 verified"
    assert answer["repositories"][1]["verdict"] == "broken"
