"""The GraphQL API's old home, kept so `from migrator.sandbox.graphql_api import validate_document` still works."""

from __future__ import annotations

from migrator.sandbox.graphql import (
    Cost,
    GitHubError,
    GqlContext,
    GraphQLOutcome,
    is_mutation_request,
    query_cost,
    run,
    schema,
    validate_document,
)

__all__ = [
    "Cost",
    "GitHubError",
    "GqlContext",
    "GraphQLOutcome",
    "is_mutation_request",
    "query_cost",
    "run",
    "schema",
    "validate_document",
]
