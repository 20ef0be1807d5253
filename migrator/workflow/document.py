"""Parse a workflow file into a ruamel node graph that keeps source positions.

We compose (not construct) the YAML: every node keeps its start and end
character index into the original text, so edits can be made surgically on the
text. Keys stay strings, so YAML 1.1's `on:`-is-a-boolean never applies.
Aliases share nodes rather than being expanded, so alias bombs cost nothing.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_WORKFLOW_BYTES = 1_000_000  # GitHub itself refuses workflow files far smaller than this
_TAB_INDENT = re.compile(r"^\t", re.MULTILINE)  # a tab in indentation is invalid YAML, for GitHub too


class UnreadableFile(Exception):
    """A file that cannot be analysed; the message says why, in one line."""


@dataclass(frozen=True, eq=False)
class Document:
    path: str
    text: str
    root: Node | None  # None for an empty document

    def line_col(self, index: int) -> tuple[int, int]:
        """1-based line and column of a character index."""
        line = self.text.count("\n", 0, index) + 1
        line_start = self.text.rfind("\n", 0, index) + 1
        return line, index - line_start + 1


def decode(path: str, content: bytes, *, max_bytes: int = MAX_WORKFLOW_BYTES) -> str:
    if len(content) > max_bytes:
        raise UnreadableFile(f"over the {max_bytes:,}-byte limit")
    if b"\0" in content:
        raise UnreadableFile("binary content (NUL bytes); not a workflow")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"not valid UTF-8 at byte {error.start}") from None


def parse(path: str, text: str) -> Document:
    try:
        root = _compose(text)
    except YAMLError as error:
        if "\\t" not in str(error) or _TAB_INDENT.search(text):
            raise UnreadableFile(f"invalid YAML: {_first_line(error)}") from None
        # ruamel rejects some tabs that GitHub accepts (e.g. `key:<TAB>value`). A space has the same
        # length, so every mark still indexes the original text, which is what edits are made on.
        try:
            root = _compose(text.replace("\t", " "))
        except YAMLError:
            raise UnreadableFile(f"invalid YAML: {_first_line(error)}") from None
    except RecursionError:
        raise UnreadableFile("YAML nested too deeply to analyse") from None
    except ValueError as error:  # e.g. unsupported characters surfaced by the reader
        raise UnreadableFile(f"invalid YAML: {_first_line(error)}") from None
    return Document(path=path, text=text, root=root)


def _compose(text: str) -> Node | None:
    yaml = YAML(typ="safe", pure=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re-defined anchors are legal YAML 1.2
        root: Node | None = yaml.compose(text)
    return root


def _first_line(error: Exception) -> str:
    problem = getattr(error, "problem", None)
    mark = getattr(error, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# --- node helpers -------------------------------------------------------------


def scalar(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def items(node: Node | None) -> Iterator[tuple[ScalarNode, Node]]:
    """Key/value pairs of a mapping whose keys are scalars (merge keys are skipped)."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value != "<<":
                yield key, value


def get(node: Node | None, key: str) -> Node | None:
    pair = get_pair(node, key)
    return pair[1] if pair else None


def get_pair(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    found: tuple[ScalarNode, Node] | None = None
    for key_node, value in items(node):
        if key_node.value == key:
            found = (key_node, value)  # the last duplicate wins, as in GitHub's parser
    return found


def elements(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def strings(node: Node | None) -> list[str]:
    """A scalar or a sequence of scalars, as a list of strings."""
    if isinstance(node, ScalarNode):
        return [node.value]
    return [v.value for v in elements(node) if isinstance(v, ScalarNode)]


def is_flow(node: Node) -> bool:
    return bool(getattr(node, "flow_style", False))


def source(doc: Document, node: Node) -> str:
    return doc.text[node.start_mark.index : node.end_mark.index]
