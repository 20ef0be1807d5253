from __future__ import annotations

import pytest

from migrator.errors import UsageError
from migrator.github.urls import ApiUrls, resolve_api_urls


@pytest.mark.parametrize(
    ("given", "rest", "graphql"),
    [
        (None, "https://api.github.com", "https://api.github.com/graphql"),
        ("https://api.github.com/", "https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
        ("https://ghe.example.com", "https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
        ("http://127.0.0.1:40123", "http://127.0.0.1:40123", "http://127.0.0.1:40123/graphql"),
        ("http://localhost:8080/", "http://localhost:8080", "http://localhost:8080/graphql"),
    ],
)
def test_rest_and_graphql_urls(given: str | None, rest: str, graphql: str) -> None:
    assert resolve_api_urls(given, env={}) == ApiUrls(rest, graphql)


def test_github_api_url_from_the_environment_as_in_actions() -> None:
    urls = resolve_api_urls(None, env={"GITHUB_API_URL": "https://ghe.example.com/api/v3"})
    assert urls.graphql == "https://ghe.example.com/api/graphql" and not urls.is_github_com
    assert resolve_api_urls("http://127.0.0.1:1", env={"GITHUB_API_URL": "https://x.example"}).host == "127.0.0.1"


def test_agrees_with_pygithub_on_graphql() -> None:
    from github.Requester import Requester

    for rest in ("/api/v3", "", "/"):
        path = resolve_api_urls(f"https://ghe.example.com{rest}", env={}).graphql.split("ghe.example.com", 1)[1]
        assert path == Requester.get_graphql_prefix("/api/v3")


def test_rejects_what_is_not_a_url() -> None:
    with pytest.raises(UsageError, match="not an http"):
        resolve_api_urls("ghe.example.com", env={})
