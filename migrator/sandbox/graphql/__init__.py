"""`POST /graphql`, executed by graphql-core against GitHub's own (vendored) schema: one module per kind of object.

Resolvers are small classes whose method names are the GraphQL field names, so
graphql-core's default resolver finds them; `typename` tells abstract types apart.
Errors are answered the GitHub way: HTTP 200 with `errors[{type, path, locations, message}]`.
The node modules refer to each other through their modules (`_repository.RepoNode`), so their cycles resolve at
call time.
"""

from __future__ import annotations

from migrator.sandbox.graphql.connection import GqlContext
from migrator.sandbox.graphql.execution import GraphQLOutcome, is_mutation_request, run
from migrator.sandbox.graphql.schema import Cost, GitHubError, query_cost, schema, validate_document

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
