"""Surgical text edits on YAML sources.

Nothing here re-serialises YAML. An edit names a character range of the
original text and its replacement; everything outside the range is untouched,
so CRLF, tabs, comments, quoting and flow style survive by construction.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from migrator.model import TextEdit
from migrator.workflow import document as d
from migrator.workflow.document import Document
from migrator.workflow.model import Job


class EditConflict(Exception):
    """Two edits overlap; applying both would corrupt the file."""


def apply_text_edits(text: str, edits: list[TextEdit]) -> str:
    ordered = _merge_shared_separators(text, sorted(edits, key=lambda e: (e.start, e.end)))
    ordered = _drop_blank_lines(text, ordered)
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise EditConflict(f"{before.path}: edits at {before.start} and {after.start} overlap")
    pieces: list[str] = []
    cursor = 0
    for edit in ordered:
        pieces.append(text[cursor : edit.start])
        pieces.append(edit.text)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _merge_shared_separators(text: str, edits: list[TextEdit]) -> list[TextEdit]:
    """Merge removals of inline items (`drop_blank_line` deletions) that claim the same separating space.

    Each removed badge takes one neighbouring space along, so two adjacent badges may both take the
    space between them. Removing both is still unambiguous: remove the union, and take the doubly
    claimed space once more where there is one, so `A [b1] [b2]` becomes `A` (not `A `, nor a conflict).
    Any other overlap is left for apply_text_edits to refuse.
    """
    out: list[TextEdit] = []
    for edit in edits:
        current = edit
        while out and current.start < out[-1].end and _removal(out[-1]) and _removal(current):
            shared = text[current.start : min(out[-1].end, current.end)]
            if shared.strip(" \t"):
                break
            previous = out.pop()
            start, end = previous.start, max(previous.end, current.end)
            for _ in shared:
                if start > 0 and text[start - 1] in " \t":
                    start -= 1
                elif end < len(text) and text[end] in " \t":
                    end += 1
            current = TextEdit(current.path, start, end, "", drop_blank_line=True)
        out.append(current)
    return out


def _removal(edit: TextEdit) -> bool:
    return edit.drop_blank_line and not edit.text


def _drop_blank_lines(text: str, edits: list[TextEdit]) -> list[TextEdit]:
    """Merge the edits of a line into one whole-line deletion when they leave it blank."""
    flagged_lines = {text.rfind("\n", 0, e.start) + 1 for e in edits if e.drop_blank_line}
    if not flagged_lines:
        return edits
    out: list[TextEdit] = []
    for line_start in sorted(flagged_lines):
        line_end = _line_end(text, line_start)
        inside = [e for e in edits if line_start <= e.start and e.end <= line_end]
        kept = text[line_start:line_end]
        for edit in sorted(inside, key=lambda e: e.start, reverse=True):
            kept = kept[: edit.start - line_start] + edit.text + kept[edit.end - line_start :]
        if not kept.strip():
            edits = [e for e in edits if e not in inside]
            out.append(TextEdit(inside[0].path, line_start, line_end, ""))
    return sorted(edits + out, key=lambda e: (e.start, e.end))


def line_ending(text: str, index: int = 0) -> str:
    """The line ending used at (or after) index, defaulting to the file's first one."""
    newline = text.find("\n", index)
    if newline == -1:
        newline = text.find("\n")
    return "\r\n" if newline > 0 and text[newline - 1] == "\r" else "\n"


def unified_diff(path: str, before: str | None, after: str | None) -> str:
    old = (before or "").splitlines(keepends=True)
    new = (after or "").splitlines(keepends=True)
    lines = difflib.unified_diff(
        old,
        new,
        fromfile="/dev/null" if before is None else f"a/{path}",
        tofile="/dev/null" if after is None else f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


# --- inserting a key into a mapping, in the style of its neighbours ------------------


def expression_style(text: str) -> str:
    """`${{ X }}` or `${{X}}`, whichever the file uses more."""
    spaced = len(re.findall(r"\$\{\{ ", text))
    tight = len(re.findall(r"\$\{\{[^ \n]", text))
    return "${{%s}}" if tight > spaced else "${{ %s }}"


def indent_unit(doc: Document) -> int:
    """The file's usual step from a key to its nested block mapping's keys."""
    steps: Counter[int] = Counter()
    stack: list[Node] = [doc.root] if doc.root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(value, MappingNode) and not d.is_flow(value) and value.value:
                    first_key = value.value[0][0]
                    if first_key.start_mark.line > key.start_mark.line:
                        steps[first_key.start_mark.column - key.start_mark.column] += 1
                stack.append(value)
        elif isinstance(node.value, list):
            stack.extend(node.value)
    positive = [(count, step) for step, count in steps.items() if step > 0]
    return max(positive)[1] if positive else 2


def _quote_like_siblings(mapping: MappingNode, value: str, *, flow: bool) -> str:
    for _key, sibling in d.items(mapping):
        if isinstance(sibling, ScalarNode) and "${{" in sibling.value and sibling.style in {"'", '"'}:
            return f"{sibling.style}{value}{sibling.style}"
    return f'"{value}"' if flow else value


def _line_end(text: str, index: int) -> int:
    """Index just past the line break of the line containing index (or the end of text)."""
    newline = text.find("\n", index)
    return len(text) if newline == -1 else newline + 1


def scalar_span(text: str, node: ScalarNode) -> tuple[int, int]:
    """Where a scalar's own text lies. A `|` or `>` block scalar starts after its header line, whose
    comment (`run: |  # ...`) belongs to no value."""
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in {"|", ">"}:
        start = min(_line_end(text, start), end)
    return start, end


def _after_value(text: str, node: ScalarNode) -> int:
    """Index just past the line break of the line holding the scalar's last character.

    A block scalar (`>-`) or a plain or quoted one folded over lines ends lines below its key;
    its marks may reach into the next line's indentation, so the last non-blank character decides.
    """
    last = node.end_mark.index
    while last > node.start_mark.index and text[last - 1] in " \t\r\n":
        last -= 1
    return _line_end(text, last)


def insert_entry(doc: Document, mapping: MappingNode, key: str, value: str) -> TextEdit | None:
    """An edit adding `key: value` to a mapping, or None when no safe place is found."""
    text = doc.text
    if d.is_flow(mapping):
        return _insert_flow_entry(doc, mapping, key, value)
    entries = list(d.items(mapping))
    indent = entries[0][0].start_mark.column if entries else None
    for _key_node, value_node in reversed(entries):
        if isinstance(value_node, ScalarNode):
            at = _after_value(text, value_node)
            eol = line_ending(text, value_node.start_mark.index)
            prefix = "" if text[at - 1 : at] == "\n" else eol
            entry = _quote_like_siblings(mapping, value, flow=False)
            return TextEdit(doc.path, at, at, f"{prefix}{' ' * (indent or 0)}{key}: {entry}{eol}")
    return None


def _insert_flow_entry(doc: Document, mapping: MappingNode, key: str, value: str) -> TextEdit | None:
    entry = _quote_like_siblings(mapping, value, flow=True)
    if not mapping.value:
        close = mapping.end_mark.index - 1
        if doc.text[close] != "}":
            return None
        return TextEdit(doc.path, close, close, f" {key}: {entry} ")
    last_value = mapping.value[-1][1]
    at = last_value.end_mark.index
    return TextEdit(doc.path, at, at, f", {key}: {entry}")


def insert_nested_entry(
    doc: Document, mapping: MappingNode, *, after_key: str, key: str, child_key: str, value: str
) -> TextEdit | None:
    """Add `key: {child_key: value}` to a mapping, right after the line of `after_key`."""
    pair = d.get_pair(mapping, after_key)
    if pair is None:
        return None
    key_node, value_node = pair
    if not isinstance(value_node, ScalarNode):
        return None
    text = doc.text
    if d.is_flow(mapping):
        entry = _quote_like_siblings(mapping, value, flow=True)
        at = value_node.end_mark.index
        return TextEdit(doc.path, at, at, f", {key}: {{ {child_key}: {entry} }}")
    indent = " " * key_node.start_mark.column
    child_indent = indent + " " * indent_unit(doc)
    eol = line_ending(text, value_node.start_mark.index)
    at = _after_value(text, value_node)
    prefix = "" if text[at - 1 : at] == "\n" else eol
    return TextEdit(doc.path, at, at, f"{prefix}{indent}{key}:{eol}{child_indent}{child_key}: {value}{eol}")


# --- removing a whole job ----------------------------------------------------------------------


def remove_job(doc: Document, job: Job) -> TextEdit | None:
    """Remove a block-style job entry, from its key's line to the end of its last line.

    Comment lines directly after the job belong to whatever follows and stay. None when the job is
    written in flow style or shares a line with something else (the edit would not be clean).
    """
    text = doc.text
    key_start = job.key.start_mark.index
    line_start = text.rfind("\n", 0, key_start) + 1
    if text[line_start:key_start].strip() or d.is_flow(job.node):
        return None
    end = _content_end(text, job.node.end_mark.index)
    if end <= key_start:
        return None
    return TextEdit(doc.path, line_start, end, "")


def _content_end(text: str, index: int) -> int:
    """The end (after its line break) of the last line before index holding more than blanks or comments."""
    line_start = text.rfind("\n", 0, index) + 1
    if text[line_start:index].strip():
        return _line_end(text, index)
    cursor = line_start  # the node ends where the next entry's line begins
    while cursor > 0:
        previous = text.rfind("\n", 0, cursor - 1) + 1
        line = text[previous:cursor].strip()
        if line and not line.startswith("#"):
            return cursor
        cursor = previous
    return cursor
