"""Every GraphQL document the adapter sends is valid against GitHub's published schema."""

from __future__ import annotations

from typing import Any

import pytest

from migrator.github import queries
from migrator.sandbox.graphql import validate_document
from migrator.sandbox.testing import Sandbox
from tests.github.support import ORG, make_client


@pytest.mark.parametrize("name", sorted(queries.ALL))
def test_document_is_valid(name: str) -> None:
    assert validate_document(queries.ALL[name]) == []


@pytest.mark.parametrize("name", sorted(queries.BUILT))
@pytest.mark.parametrize("size", [0, 1, 3, 25])
def test_built_document_is_valid(name: str, size: int) -> None:
    if name in {"MigratorPullStatuses", "MigratorRepositoriesNamed"} and size == 0:
        return  # never built: no pull requests, no query
    assert validate_document(queries.BUILT[name](size)) == []


def test_the_state_and_status_queries_cost_one_point() -> None:
    from graphql import parse

    from migrator.sandbox.graphql import query_cost

    for document in (queries.repo_state(30), queries.pull_statuses(25)):
        parsed = parse(document)
        assert query_cost(parsed, parsed.definitions[0], {}).points == 1  # type: ignore[arg-type]


def test_every_document_sent_in_a_run_is_valid(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, page_size=3)
    requester = client.transport._requester
    real = requester.requestJsonAndCheck
    sent: list[str] = []

    def spy(verb: str, url: str, **kwargs: Any) -> Any:
        if url == client.urls.graphql:
            sent.append(kwargs["input"]["query"])
        return real(verb, url, **kwargs)

    requester.requestJsonAndCheck = spy
    client.token_info()
    client.count_repositories(ORG)
    for record in client.repositories(ORG):
        client.secret_names(record.full_name)
    assert len(sent) >= 3
    assert set(sent) <= set(queries.ALL.values())
    for document in set(sent):
        assert validate_document(document) == []


def test_the_page_query_costs_what_its_comment_says() -> None:
    from graphql import parse

    from migrator.sandbox.graphql import query_cost

    document = parse(queries.REPOSITORIES)
    operation = document.definitions[0]
    for first, points in ((10, 3), (50, 15), (99, 30)):
        assert query_cost(document, operation, {"first": first}).points == points  # type: ignore[arg-type]
