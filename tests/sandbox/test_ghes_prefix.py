"""The GitHub Enterprise Server layout: REST under /api/v3 (and still at the root), GraphQL at /api/graphql, and
every URL the sandbox hands out (Link, `url`, Location) carrying the prefix the client used, while web pages
(`html_url`) stay at the host's root."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github
from requests.utils import parse_header_links

from migrator.github.client import ClientSettings, connect
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed

TOKEN = "tok-admin-ghes"
REPOS = ("alpha", "beta", "gamma", "delta", "epsilon")
SECRETS = ("PAT_TOKEN", "NPM_TOKEN", "DOCKER_TOKEN", "SLACK_HOOK", "SONAR_TOKEN")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path_factory.mktemp("ghes-seed"),
        {"acme": {name: {"README.md": f"# {name}\n"} for name in REPOS}},
        repo_meta={"acme/alpha": {"secrets": list(SECRETS)}},
        org_meta={"acme": {"secrets": list(SECRETS), "tokens": {TOKEN: "full"}}},
    )
    with running_sandbox(seed, max_per_page=2) as running:  # small pages, so that every list needs its Links
        yield running


def call(sandbox: Sandbox, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
    request = urllib.request.Request(
        sandbox.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), error.headers


def links(headers: Any) -> dict[str, str]:
    return {link["rel"]: link["url"] for link in parse_header_links(headers["Link"])}


def api_urls(data: Any) -> list[str]:
    """Every API URL in a body: values of `url` and `*_url` keys that are not web pages."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and (key == "url" or key.endswith("_url")) and value.startswith("http"):
                if key not in ("html_url", "avatar_url", "clone_url", "svn_url", "git_url", "blob_url", "raw_url",
                               "download_url", "diff_url", "patch_url"):
                    found.append(value)
            else:
                found += api_urls(value)
    elif isinstance(data, list):
        for item in data:
            found += api_urls(item)
    return found


def web_urls(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [v for k, v in data.items() if k == "html_url" and isinstance(v, str)] + [
            u for v in data.values() for u in web_urls(v)
        ]
    if isinstance(data, list):
        return [u for item in data for u in web_urls(item)]
    return []


def test_rest_under_api_v3_hands_out_prefixed_urls(sandbox: Sandbox) -> None:
    status, data, headers = call(sandbox, "GET", "/api/v3/orgs/acme/repos?per_page=2&page=2")
    assert status == 200 and len(data) == 2
    rels = links(headers)
    assert set(rels) == {"prev", "next", "last", "first"}
    assert all(url.startswith(f"{sandbox.url}/api/v3/orgs/acme/repos?") for url in rels.values()), rels
    assert api_urls(data) and all(u.startswith(f"{sandbox.url}/api/v3/") for u in api_urls(data))
    assert data[0]["url"] == f"{sandbox.url}/api/v3/repos/{data[0]['full_name']}"
    assert data[0]["html_url"] == f"{sandbox.url}/{data[0]['full_name']}"  # web pages live at the root
    assert web_urls(data) and not any("/api/v3" in u for u in web_urls(data))


def test_the_root_still_serves_rest_without_the_prefix(sandbox: Sandbox) -> None:
    status, data, headers = call(sandbox, "GET", "/orgs/acme/repos?per_page=2")
    assert status == 200
    assert links(headers)["next"].startswith(f"{sandbox.url}/orgs/acme/repos?")
    assert "/api/v3" not in json.dumps(data)


def test_secret_lists_page_through_prefixed_links(sandbox: Sandbox) -> None:
    status, data, headers = call(sandbox, "GET", "/api/v3/orgs/acme/actions/secrets?per_page=100")
    assert status == 200 and data["total_count"] == len(SECRETS) and len(data["secrets"]) == 2  # capped at 2
    assert links(headers)["next"] == f"{sandbox.url}/api/v3/orgs/acme/actions/secrets?per_page=100&page=2"


def test_writes_answer_with_prefixed_location_and_urls(sandbox: Sandbox) -> None:
    head = call(sandbox, "GET", "/api/v3/repos/acme/beta/git/ref/heads/main")[1]["object"]["sha"]
    status, data, headers = call(
        sandbox, "POST", "/api/v3/repos/acme/beta/git/refs", {"ref": "refs/heads/feature", "sha": head}
    )
    assert status == 201
    assert headers["Location"] == data["url"] == f"{sandbox.url}/api/v3/repos/acme/beta/git/refs/heads/feature"
    status, pull, headers = call(sandbox, "POST", "/api/v3/repos/acme/beta/pulls", {
        "title": "t", "head": "feature", "base": "main"})
    assert status == 422  # no commits between them; make one so that the PR can be opened
    change = {"message": "m", "content": "eAo=", "branch": "feature"}
    assert call(sandbox, "PUT", "/api/v3/repos/acme/beta/contents/x.txt", change)[0] == 201
    status, pull, headers = call(sandbox, "POST", "/api/v3/repos/acme/beta/pulls", {
        "title": "t", "head": "feature", "base": "main"})
    assert status == 201 and headers["Location"] == pull["url"]
    assert pull["url"] == f"{sandbox.url}/api/v3/repos/acme/beta/pulls/{pull['number']}"
    assert pull["html_url"] == f"{sandbox.url}/acme/beta/pull/{pull['number']}"


def test_graphql_is_at_api_graphql_and_not_under_v3(sandbox: Sandbox) -> None:
    query = {"query": 'query { repository(owner: "acme", name: "alpha") { url } }'}
    status, data, _ = call(sandbox, "POST", "/api/graphql", query)
    assert status == 200 and data["data"]["repository"]["url"] == f"{sandbox.url}/acme/alpha"
    assert call(sandbox, "POST", "/api/v3/graphql", query)[0] == 404


def test_faults_and_the_request_log_see_the_path_the_client_sent(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "^/api/v3/repos/acme/gamma$"},
                       "response": {"status": 502, "body": {"message": "Server Error"}}})
    sandbox.clear_requests()
    assert call(sandbox, "GET", "/repos/acme/gamma")[0] == 200  # the root is another path
    assert call(sandbox, "GET", "/api/v3/repos/acme/gamma")[0] == 502
    assert [r.path for r in sandbox.requests()] == ["/repos/acme/gamma", "/api/v3/repos/acme/gamma"]


def test_pygithub_pages_through_the_prefix(sandbox: Sandbox) -> None:
    gh = Github(auth=Auth.Token(TOKEN), base_url=sandbox.ghes_url, retry=None, per_page=2)
    sandbox.clear_requests()
    names = sorted(r.name for r in gh.get_organization("acme").get_repos())
    assert names == sorted(REPOS)
    paths = [r.path for r in sandbox.requests()]
    assert len(paths) == 1 + 3  # the org, then three pages of repositories, each from the last one's Link
    assert all(p.startswith("/api/v3/") for p in paths), paths


def test_the_adapter_talks_ghes_urls_only(sandbox: Sandbox) -> None:
    client = connect(api_url=sandbox.ghes_url, token=TOKEN, settings=ClientSettings(page_size=2))
    assert client.urls.graphql == f"{sandbox.url}/api/graphql"
    sandbox.clear_requests()
    assert sorted(r.full_name for r in client.repositories("acme")) == sorted(f"acme/{n}" for n in REPOS)
    assert client.org_secret_names("acme") == frozenset(SECRETS)
    assert client.secret_names("acme/alpha").repo == frozenset(SECRETS)
    paths = [r.path.partition("?")[0] for r in sandbox.requests()]
    assert paths.count("/api/graphql") == 3  # three pages of two repositories
    rest = [p for p in paths if p != "/api/graphql"]
    assert len(rest) == 3 * 3 and all(p.startswith("/api/v3/") for p in rest), paths  # 3 lists of 3 pages
    assert len(paths) == client.usage.requests


def test_unprefixed_paths_are_not_ghes(sandbox: Sandbox, tmp_path: Path) -> None:
    """/api/v3 only counts as a whole path segment."""
    assert call(sandbox, "GET", "/api/v30/repos/acme/alpha")[0] == 404
    assert call(sandbox, "GET", "/api/v3")[0] == 404  # nothing at the bare prefix, as nothing at the root
