from __future__ import annotations

import pytest

from migrator.workflow import document as d
from migrator.workflow.model import build


def test_marks_index_the_original_text_including_bom_and_crlf() -> None:
    text = "\ufeffon: push\r\njobs:\r\n  a:\r\n    env: { T: x }\r\n"
    doc = d.parse("w.yml", text)
    env = d.get(d.get(d.get(doc.root, "jobs"), "a"), "env")
    assert env is not None
    assert d.source(doc, env) == "{ T: x }"


def test_on_is_a_string_key_even_in_yaml_1_1() -> None:
    workflow = build(d.parse("w.yml", "%YAML 1.1\n---\non: [push, release]\njobs: {}\n"))
    assert workflow.triggers.names() == {"push", "release"}


def test_tab_after_a_colon_is_tolerated_and_offsets_still_match() -> None:
    text = "env:\n  A:\t${{ secrets.X }}\n"
    doc = d.parse("w.yml", text)
    value = d.get(d.get(doc.root, "env"), "A")
    assert value is not None
    assert doc.text[value.start_mark.index : value.end_mark.index] == "${{ secrets.X }}"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"a\x00b", "binary"),
        (b"\xff\xfe", "UTF-8"),
        (b"x" * (d.MAX_WORKFLOW_BYTES + 1), "limit"),
    ],
)
def test_unreadable_content_is_reported_in_one_line(content: bytes, problem: str) -> None:
    with pytest.raises(d.UnreadableFile, match=problem):
        d.decode("w.yml", content)


def test_invalid_yaml_is_an_unreadable_file() -> None:
    with pytest.raises(d.UnreadableFile, match="invalid YAML"):
        d.parse("w.yml", "jobs: [unclosed\n")


def test_alias_bombs_are_refused_not_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    with pytest.raises(d.UnreadableFile, match="alias bomb"):
        d.parse("w.yml", "\n".join(lines) + "\n")


def test_deep_nesting_is_reported_not_raised() -> None:
    with pytest.raises(d.UnreadableFile):
        d.parse("w.yml", "[" * 5000 + "]" * 5000)
