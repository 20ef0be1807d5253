"""Parse a workflow file into a ruamel node graph that keeps source positions.

We compose (not construct) the YAML: every node keeps its start and end
character index into the original text, so edits can be made surgically on the
text. Keys stay strings, so YAML 1.1's `on:`-is-a-boolean never applies.

Aliases share nodes rather than being copied, but the rules follow them (GitHub
expands anchors, so must we), so a document is refused while it is composed,
before anything walks it:
  - nested deeper than MAX_NESTING levels (no RecursionError; flow nesting is
    refused by the scanner already, whose cost per token grows with it);
  - aliases that would add more than MAX_ALIAS_EXPANSION nodes plus scalar
    characters once expanded (a "billion laughs" bomb), or an alias inside its
    own anchor (a cycle).
Everything downstream, walkers included, then sees at most the file itself plus
MAX_ALIAS_EXPANSION.
"""

from __future__ import annotations

import re
import warnings
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scanner import Scanner

MAX_WORKFLOW_BYTES = 1_000_000  # GitHub itself refuses workflow files far smaller than this
MAX_NESTING = 64  # real workflows nest about 10 levels deep
# Nodes plus scalar characters that expanding every alias may add: following aliases then costs the rules
# no more than reading one more file of the largest size they accept.
MAX_ALIAS_EXPANSION = MAX_WORKFLOW_BYTES
_TAB_INDENT = re.compile(r"^\t", re.MULTILINE)  # a tab in indentation is invalid YAML, for GitHub too


class UnreadableFile(Exception):
    """A file that cannot be analysed; the message says why, in one line."""


@dataclass(frozen=True, eq=False)
class Document:
    path: str
    text: str
    root: Node | None  # None for an empty document

    def line_col(self, index: int) -> tuple[int, int]:
        """1-based line and column of a character index (a binary search: rules ask thousands of times)."""
        line = bisect_right(self._line_starts, index)
        return line, index - self._line_starts[line - 1] + 1

    @cached_property
    def _line_starts(self) -> array[int]:
        starts = array("q", [0])
        find, at = self.text.find, 0
        while (at := find("\n", at) + 1) > 0:
            starts.append(at)
        return starts


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
    except RecursionError:  # a fallback: MAX_NESTING stops composition long before the stack runs out
        raise UnreadableFile("YAML nested too deeply to analyse") from None
    except ValueError as error:  # e.g. unsupported characters surfaced by the reader
        raise UnreadableFile(f"invalid YAML: {_first_line(error)}") from None
    return Document(path=path, text=text, root=root)


def _compose(text: str) -> Node | None:
    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = _BoundedScanner
    yaml.Composer = _BoundedComposer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re-defined anchors are legal YAML 1.2
        root: Node | None = yaml.compose(text)
    return root


class _BoundedScanner(Scanner):
    """ruamel's scanner, refusing flow collections (`[`, `{`) nested deeper than MAX_NESTING.

    The composer would refuse them too, but only after the scanner has looked ahead up to 1,024
    characters, with work per token that grows with the flow depth: 0.3 s for `[` x 100,000.
    Any flow level is a node level, so this never refuses what the composer would accept.
    """

    def fetch_flow_collection_start(self, *args: Any, **kwargs: Any) -> None:
        if self.flow_level >= MAX_NESTING:
            raise UnreadableFile(f"YAML nested deeper than {MAX_NESTING} levels (line {self.reader.line + 1})")
        super().fetch_flow_collection_start(*args, **kwargs)


class _BoundedComposer(Composer):
    """ruamel's composer, refusing deep nesting, alias bombs and recursive aliases as it goes.

    A node's expanded size is 1, plus its scalar's length, plus its children's expanded sizes; an
    alias would copy the whole expanded size of the node it names, and `copied` adds those up.
    """

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader=loader)
        self.open: list[int] = []  # expanded size of the children composed so far, per open node
        self.anchored: dict[int, int] = {}  # id(node) -> expanded size, for finished nodes with an anchor
        self.copied = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)  # raises for an undefined alias
            size = self.anchored.get(id(node))
            if size is None:  # its anchor is still being composed: the alias is inside it
                raise UnreadableFile(f"YAML alias *{event.anchor} is inside its own anchor (line {_line(event)})")
            self.copied += size
            if self.copied > MAX_ALIAS_EXPANSION:
                raise UnreadableFile(
                    f"YAML aliases expand to over {MAX_ALIAS_EXPANSION:,} more nodes and characters (an alias bomb?)"
                )
            if self.open:
                self.open[-1] += size
            return node
        open_ = self.open
        if len(open_) >= MAX_NESTING:
            raise UnreadableFile(f"YAML nested deeper than {MAX_NESTING} levels (line {_line(event)})")
        open_.append(0)
        node = super().compose_node(parent, index)
        size = open_.pop() + (1 + len(node.value) if isinstance(node, ScalarNode) else 1)
        if event.anchor is not None:
            self.anchored[id(node)] = size
        if open_:
            open_[-1] += size
        return node


def _line(event: Any) -> int:
    mark = getattr(event, "start_mark", None)
    return int(getattr(mark, "line", 0)) + 1


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
