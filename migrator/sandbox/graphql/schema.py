"""GitHub's vendored schema, validation in GitHub's wording, and GitHub's query cost rule."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    parse,
    validate,
)

Json = dict[str, Any]
MAX_PAGE = 100


@functools.cache
def schema() -> GraphQLSchema:
    """GitHub's schema, built once per process (it is large)."""
    text = resources.files("migrator").joinpath("_vendor/github_graphql/schema.graphql").read_text("utf-8")
    # GitHub's published SDL repeats two fields and deprecates some Node.id
    # implementations, which graphql-core's strict SDL and schema checks refuse;
    # GitHub itself serves it, so we skip those checks rather than edit the file.
    built = build_schema(text, assume_valid_sdl=True)
    built._validation_errors = []
    return built


class GitHubError(Exception):
    """An error GitHub reports with a `type`, such as NOT_FOUND or STALE_DATA."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# ---------------------------------------------------------------- validation


_FIELD_MISSING = re.compile(r"Cannot query field '([^']+)' on type '([^']+)'\.")
_UNKNOWN_ARG = re.compile(r"Unknown argument '([^']+)' on field '([^'.]+)\.([^']+)'\.")
_REQUIRED_ARG = re.compile(r"Field '([^']+)' argument '([^']+)' of type '[^']+' is required, but it was not provided\.")


def github_validation_error(error: GraphQLError) -> Json:
    """graphql-core's validation messages, reworded as GitHub words them."""
    message = error.message
    extensions: Json = {}
    if match := _FIELD_MISSING.match(message):
        message = f"Field '{match[1]}' doesn't exist on type '{match[2]}'"
        extensions = {"code": "undefinedField", "typeName": match[2], "fieldName": match[1]}
    elif match := _UNKNOWN_ARG.match(message):
        message = f"Field '{match[3]}' doesn't accept argument '{match[1]}'"
        extensions = {"code": "argumentNotAccepted", "name": match[3], "typeName": "Field", "argumentName": match[1]}
    elif match := _REQUIRED_ARG.match(message):
        message = f"Field '{match[1]}' is missing required arguments: {match[2]}"
        extensions = {"code": "missingRequiredArguments", "className": "Field", "name": match[1], "arguments": match[2]}
    data: Json = {"message": message}
    if error.locations:
        data["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if extensions:
        data["extensions"] = extensions
    return data


def parse_document(query: str) -> DocumentNode | list[Json]:
    try:
        return parse(query)
    except GraphQLError as error:
        return [github_validation_error(error)]


def validate_document(query: str) -> list[str]:
    """Messages for everything GitHub would refuse in this document; empty when it is valid."""
    document = parse_document(query)
    if isinstance(document, list):
        return [str(e["message"]) for e in document]
    return [str(github_validation_error(e)["message"]) for e in validate(schema(), document)]


# ---------------------------------------------------------------- cost


@dataclass(frozen=True)
class Cost:
    requests: int
    nodes: int

    @property
    def points(self) -> int:
        return max(1, round(self.requests / 100))


def query_cost(document: DocumentNode, operation: OperationDefinitionNode, variables: Json) -> Cost:
    """GitHub's rule: one request per connection per parent, `first`/`last` multiplying nested ones."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    requests, nodes = _walk_cost(operation.selection_set, fragments, variables, 1)
    return Cost(requests, nodes)


def _walk_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: Json,
    multiplier: int,
) -> tuple[int, int]:
    requests = nodes = 0
    for selection in selection_set.selections if selection_set else ():
        child_multiplier, child_set = multiplier, None
        if isinstance(selection, FieldNode):
            limit = _page_size(selection, variables)
            if limit is not None:
                requests += multiplier
                nodes += multiplier * limit
                child_multiplier = multiplier * limit
            child_set = selection.selection_set
        elif isinstance(selection, InlineFragmentNode):
            child_set = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            child_set = fragments[selection.name.value].selection_set
        more_requests, more_nodes = _walk_cost(child_set, fragments, variables, child_multiplier)
        requests += more_requests
        nodes += more_nodes
    return requests, nodes


def _page_size(node: FieldNode, variables: Json) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), int):
            return int(variables[value.name.value])
    return None
