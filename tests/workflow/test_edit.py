from __future__ import annotations

import pytest
from ruamel.yaml.nodes import MappingNode

from migrator.model import TextEdit
from migrator.workflow import document as d
from migrator.workflow.edit import (
    EditConflict,
    apply_text_edits,
    expression_style,
    indent_unit,
    insert_entry,
    insert_nested_entry,
    line_ending,
)


def test_edits_change_only_their_spans() -> None:
    text = "a: 1\r\nb: 2 # keep\r\n"
    edited = apply_text_edits(text, [TextEdit("f", 3, 4, "10"), TextEdit("f", 9, 10, "20")])
    assert edited == "a: 10\r\nb: 20 # keep\r\n"


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(EditConflict):
        apply_text_edits("abcdef", [TextEdit("f", 0, 3, "x"), TextEdit("f", 2, 4, "y")])


def test_blank_line_is_dropped_only_when_every_badge_on_it_goes() -> None:
    text = "top\n[A] [B]\nend\n"
    a, b = TextEdit("f", 4, 8, "", True), TextEdit("f", 8, 11, "", True)
    assert apply_text_edits(text, [a, b]) == "top\nend\n"
    assert apply_text_edits(text, [a]) == "top\n[B]\nend\n"


def test_line_ending_and_expression_style_follow_the_file() -> None:
    assert line_ending("a: 1\r\nb: 2\n") == "\r\n"
    assert line_ending("a: 1") == "\n"
    assert expression_style("x: ${{secrets.A}}\ny: ${{secrets.B}}\nz: ${{ c }}") == "${{%s}}"


def _mapping(text: str, *path: str) -> tuple[d.Document, MappingNode]:
    doc = d.parse("w.yml", text)
    node = doc.root
    for key in path:
        node = d.get(node, key)
    assert isinstance(node, MappingNode)
    return doc, node


def test_insert_entry_uses_the_mapping_indentation_and_line_ending() -> None:
    doc, with_ = _mapping("s:\r\n    with:\r\n        depth: 0 # c\r\n", "s", "with")
    edit = insert_entry(doc, with_, "token", "${{ secrets.P }}")
    assert edit is not None
    out = apply_text_edits(doc.text, [edit])
    assert out == "s:\r\n    with:\r\n        depth: 0 # c\r\n        token: ${{ secrets.P }}\r\n"


def test_insert_entry_in_a_flow_mapping_quotes_the_expression() -> None:
    doc, with_ = _mapping("with: { depth: 0 }\n", "with")
    edit = insert_entry(doc, with_, "token", "${{ secrets.P }}")
    assert edit is not None
    assert apply_text_edits(doc.text, [edit]) == 'with: { depth: 0, token: "${{ secrets.P }}" }\n'


def test_insert_nested_entry_after_uses_in_four_space_files() -> None:
    text = (
        "steps:\n    -   uses: actions/checkout@v4\n        name: x\n    -   run: a\n        env:\n            A: b\n"
    )
    doc = d.parse("w.yml", text)
    step = d.elements(d.get(doc.root, "steps"))[0]
    assert isinstance(step, MappingNode)
    assert indent_unit(doc) == 4
    edit = insert_nested_entry(doc, step, after_key="uses", key="with", child_key="token", value="T")
    assert edit is not None
    assert apply_text_edits(text, [edit]).splitlines()[1:4] == [
        "    -   uses: actions/checkout@v4",
        "        with:",
        "            token: T",
    ]


# --- removing a job ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "job", "expected"),
    [
        (
            "jobs:\n  a:\n    steps: []\n  b:\n    steps: []\n\n  c:\n    steps: []\n",
            "b",
            "jobs:\n  a:\n    steps: []\n\n  c:\n    steps: []\n",
        ),
        ("jobs:\n  a:\n    steps: []\n  b:\n    steps: []", "b", "jobs:\n  a:\n    steps: []\n"),
        ("jobs:\r\n  a:\r\n    x: 1\r\n  b:\r\n    x: 2\r\n", "a", "jobs:\r\n  b:\r\n    x: 2\r\n"),
    ],
)
def test_remove_job_takes_exactly_its_lines(text: str, job: str, expected: str) -> None:
    from migrator.workflow.edit import remove_job
    from migrator.workflow.model import build

    workflow = build(d.parse("w.yml", text))
    target = next(j for j in workflow.jobs if j.job_id == job)
    edit = remove_job(workflow.doc, target)
    assert edit is not None
    assert apply_text_edits(text, [edit]) == expected


def test_remove_job_refuses_flow_style() -> None:
    from migrator.workflow.edit import remove_job
    from migrator.workflow.model import build

    workflow = build(d.parse("w.yml", "jobs: {a: {x: 1}, b: {x: 2}}\n"))
    assert remove_job(workflow.doc, workflow.jobs[0]) is None
