"""Surgical insertions of whole blocks: a step before another step, entries into a step's `env:` or `with:`.

Like `edit`, nothing is re-serialised: each function returns one `TextEdit` naming a range of the original text,
written in the file's own indentation, line endings and quoting, or None when no clean place is found (a flow
style step, a value written as a block scalar). Values are given as YAML-ready text (`${{ x }}`, `write`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from migrator.model import TextEdit
from migrator.workflow import document as d
from migrator.workflow.document import Document
from migrator.workflow.edit import _after_value, indent_unit, line_ending

# A block to write: (depth, `key: value` or `key:`), depth 0 being the mapping's own keys.
Lines = Sequence[tuple[int, str]]
# A step to insert: (key, value, comment) entries; a value is text or (key, text) pairs (a `with:` or `env:`).
Entry = tuple[str, "str | Sequence[tuple[str, str]]", str]
StepSpec = Sequence[Entry]


def insert_step_before(doc: Document, step: MappingNode, steps: Sequence[StepSpec]) -> TextEdit | None:
    """New sequence items (steps) right before `step`: block items before `- <step>`, flow mappings before a
    step of a flow sequence. Comment lines directly above a block item stay with it."""
    text = doc.text
    start = step.start_mark.index
    line_start = text.rfind("\n", 0, start) + 1
    prefix = text[line_start:start]
    eol = line_ending(text, start)
    if prefix.strip() == "-" and "\t" not in prefix:
        dash = prefix.index("-")
        line_start = _above_comments(text, line_start, prefix[:dash])
        key_column = step.start_mark.column
        unit = indent_unit(doc)
        out = []
        for spec in steps:
            first = f"{prefix[:dash]}-{' ' * (key_column - dash - 1)}"
            for number, (depth, body) in enumerate(_block_lines(spec)):
                lead = first if number == 0 else " " * (key_column + depth * unit)
                out.append(f"{lead}{body}{eol}")
        return TextEdit(doc.path, line_start, line_start, "".join(out))
    if d.is_flow(step) and text[start : start + 1] == "{" and text[:start].rstrip().endswith(("[", ",")):
        indent = " " * (step.start_mark.column + 1)
        return TextEdit(doc.path, start, start, "".join(_flow_mapping(spec, eol + indent) + ", " for spec in steps))
    return None


def _block_lines(spec: StepSpec) -> Lines:
    out: list[tuple[int, str]] = []
    for key, value, comment in spec:
        note = f" # {comment}" if comment else ""
        if isinstance(value, str):
            out.append((0, f"{key}: {value}{note}"))
        else:
            out.append((0, f"{key}:{note}"))
            out.extend((1, f"{name}: {inner}") for name, inner in value)
    return out


def _flow_mapping(spec: StepSpec, newline: str) -> str:
    """`{key: value, ...}`; a comment ends its line (allowed in flow context), the rest continues on the next."""
    parts = []
    for number, (key, value, comment) in enumerate(spec):
        rendered = (
            flow_scalar(value)
            if isinstance(value, str)
            else "{" + ", ".join(f"{name}: {flow_scalar(inner)}" for name, inner in value) + "}"
        )
        last = number == len(spec) - 1
        parts.append(f"{key}: {rendered}" + ("" if last else ",") + (f"  # {comment}{newline}" if comment else " "))
    return "{" + "".join(parts).rstrip(" ") + "}"


def flow_scalar(value: str) -> str:
    """A value safe in flow context: plain when it can be, else double-quoted (JSON escapes are YAML's)."""
    if value and re.fullmatch(r"[A-Za-z0-9_./@+-][A-Za-z0-9_./@+ -]*", value) and not value.endswith(" "):
        return value
    return json.dumps(value, ensure_ascii=False)


def _above_comments(text: str, line_start: int, indent: str) -> int:
    """The start of the comment lines, at the item's own indentation, directly above it: they describe it."""
    while line_start > 0:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        line = text[previous:line_start].rstrip("\r\n")
        if not line.startswith(indent + "#"):
            break
        line_start = previous
    return line_start


def replace_scalar(doc: Document, node: Node, value: str) -> TextEdit | None:
    """Replace a plain or quoted scalar's value, keeping its quotes; None for block scalars."""
    if not isinstance(node, ScalarNode) or node.style in {"|", ">"}:
        return None
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in {"'", '"'}:
        inner = value.replace("'", "''") if node.style == "'" else value.replace("\\", "\\\\").replace('"', '\\"')
        return TextEdit(doc.path, start, end, f"{node.style}{inner}{node.style}")
    return TextEdit(doc.path, start, end, value)


def set_entries(
    doc: Document, owner: MappingNode, key: str, entries: Sequence[tuple[str, str]]
) -> list[TextEdit] | None:
    """Make `owner[key]` (a step's `env:` or `with:`) hold each `name: value`: replace the values that are there,
    add the others after the mapping's last scalar entry; add `key:` itself after the owner's last scalar entry
    when the owner has none. None when that cannot be done cleanly."""
    target = d.get(owner, key)
    if target is None:
        if d.is_flow(owner):
            edit = _append_flow_key(doc, owner, key, entries)
        else:
            edit = _append_block(doc, owner, [(0, f"{key}:"), *((1, f"{n}: {v}") for n, v in entries)])
        return None if edit is None else [edit]
    if not isinstance(target, MappingNode):
        return None
    edits: list[TextEdit] = []
    missing: list[tuple[str, str]] = []
    for name, value in entries:
        present = d.get(target, name)
        if present is None:
            missing.append((name, value))
            continue
        if isinstance(present, ScalarNode) and present.value == _unquoted(value):
            continue
        edit = replace_scalar(doc, present, value)
        if edit is None:
            return None
        edits.append(edit)
    if missing:
        if d.is_flow(target):
            added = _append_flow(doc, target, missing)
        else:
            added = _append_block(doc, target, [(0, f"{name}: {value}") for name, value in missing])
        if added is None:
            return None
        edits.append(added)
    return edits


def _unquoted(value: str) -> str:
    return value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" else value


def _append_block(doc: Document, mapping: MappingNode, lines: Lines) -> TextEdit | None:
    """Lines added after the last entry of a block mapping whose value is a scalar (as `edit.insert_entry`)."""
    if d.is_flow(mapping):
        return None
    text = doc.text
    entries = list(d.items(mapping))
    if not entries:
        return None
    indent = entries[0][0].start_mark.column
    unit = indent_unit(doc)
    for _key, value in reversed(entries):
        if isinstance(value, ScalarNode):
            at = _after_value(text, value)
            eol = line_ending(text, value.start_mark.index)
            prefix = "" if text[at - 1 : at] == "\n" else eol
            body = "".join(f"{' ' * (indent + depth * unit)}{line}{eol}" for depth, line in lines)
            return TextEdit(doc.path, at, at, prefix + body)
    return None


def _append_flow(doc: Document, mapping: MappingNode, entries: Sequence[tuple[str, str]]) -> TextEdit | None:
    if not mapping.value:
        return None
    at = mapping.value[-1][1].end_mark.index
    quoted = ", ".join(f"{name}: {flow_scalar(value)}" for name, value in entries)
    return TextEdit(doc.path, at, at, f", {quoted}")


def _append_flow_key(
    doc: Document, mapping: MappingNode, key: str, entries: Sequence[tuple[str, str]]
) -> TextEdit | None:
    """`, key: {name: value, ...}` after the last entry of a flow mapping."""
    if not mapping.value:
        return None
    at = mapping.value[-1][1].end_mark.index
    inner = ", ".join(f"{name}: {flow_scalar(value)}" for name, value in entries)
    return TextEdit(doc.path, at, at, f", {key}: {{{inner}}}")
