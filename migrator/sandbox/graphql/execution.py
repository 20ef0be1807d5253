"""Running one `POST /graphql` request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    validate,
)

from migrator.sandbox.graphql.connection import GqlContext, Info
from migrator.sandbox.graphql.mutations import MutationRoot
from migrator.sandbox.graphql.query import QueryRoot
from migrator.sandbox.graphql.schema import (
    Cost,
    GitHubError,
    Json,
    github_validation_error,
    parse_document,
    query_cost,
    schema,
)
from migrator.sandbox.ops import OpError

# ---------------------------------------------------------------- execution


@dataclass(frozen=True)
class GraphQLOutcome:
    body: Json
    operation_name: str | None
    is_mutation: bool
    points: int


def _type_resolver(value: Any, info: Info, abstract_type: Any) -> str | None:
    return getattr(value, "typename", None)


def _format_error(error: GraphQLError) -> Json:
    original = error.original_error
    data: Json = {}
    if isinstance(original, OpError):  # a refusal raised by the write itself (a ruleset on the ref)
        original = GitHubError(original.gql_type, original.message)
    if isinstance(original, GitHubError):
        data["type"] = original.kind
    if error.path is not None:
        data["path"] = list(error.path)
    if error.locations:
        data["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    data["message"] = original.message if isinstance(original, GitHubError) else error.message
    return data


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def run(ctx: GqlContext, payload: Any, *, charge: Callable[[int], bool]) -> GraphQLOutcome:
    """Execute one GraphQL request. `charge(points)` spends budget and says whether it was available."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return GraphQLOutcome(
            {"errors": [{"message": "A query attribute must be specified and must be a string."}]}, None, False, 0
        )
    name = payload.get("operationName") or None
    variables = payload.get("variables") or {}
    document = parse_document(payload["query"])
    if isinstance(document, list):
        return GraphQLOutcome({"errors": document}, name, False, 0)
    problems = validate(schema(), document)
    if problems:
        return GraphQLOutcome({"errors": [github_validation_error(e) for e in problems]}, name, False, 0)
    operation = select_operation(document, name)
    if operation is None:
        return GraphQLOutcome({"errors": [{"message": "An operation name is required"}]}, name, False, 0)
    op_name = operation.name.value if operation.name else name
    is_mutation = operation.operation == OperationType.MUTATION
    ctx.cost = Cost(1, 0) if is_mutation else query_cost(document, operation, variables)
    if not charge(ctx.cost.points):
        message = "API rate limit already exceeded for user ID 1."
        return GraphQLOutcome(
            {"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message}]},
            op_name,
            is_mutation,
            0,
        )
    root: Any = MutationRoot(ctx) if is_mutation else QueryRoot(ctx)
    result = execute(
        schema(),
        document,
        root_value=root,
        variable_values=variables,
        operation_name=op_name,
        type_resolver=_type_resolver,
    )
    assert isinstance(result, ExecutionResult)  # no resolver is async
    body: Json = {}
    if result.errors:
        body["errors"] = [_format_error(e) for e in result.errors]
    body["data"] = result.data
    return GraphQLOutcome(body, op_name, is_mutation, ctx.cost.points)


def is_mutation_request(payload: Any) -> bool:
    """Whether a request is content-creating, decided before the secondary limit is checked."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return False
    document = parse_document(payload["query"])
    if isinstance(document, list):
        return False
    operation = select_operation(document, payload.get("operationName") or None)
    return operation is not None and operation.operation == OperationType.MUTATION
