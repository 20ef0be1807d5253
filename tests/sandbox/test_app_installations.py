"""Installations on selected repositories, `GET /orgs/{org}/installations`, the org's and a repository's secret
names, each answer checked against GitHub's OpenAPI description; and the Actions model's
`actions/create-github-app-token`, which mints from the App's key only what GitHub would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from migrator.sandbox.testing import AppKey, FakeClock, Sandbox, running_sandbox, write_seed
from tests.sandbox.actions_support import job_log, jobs, push, runs
from tests.sandbox.support import ADMIN, call
from tests.sandbox.test_openapi_contract import OPENAPI, _schema, _templates

WRITER = "tok-write"
APP_ID, INSTALLATION = 91, 910
STEP = """name: token
on: push
jobs:
  mint:
    runs-on: ubuntu-latest
    steps:
      - id: app
        uses: actions/create-github-app-token@df432ceedc7162793a195dd1713ff69aefc7379e # v2.0.6
        with:
          app-id: ${{ secrets.APP_ID }}
          private-key: ${{ secrets.APP_KEY }}
          owner: acme
          repositories: %s
          permission-contents: %s
      - run: echo minted
"""


@pytest.fixture(scope="module")
def key() -> AppKey:
    return AppKey.generate()


def _sandbox(tmp_path: Path, key: AppKey, workflow: str, *, app_key: str | None = None) -> Iterator[Sandbox]:
    app = key.app_entry(APP_ID, INSTALLATION, {"contents": "write", "metadata": "read"})
    app |= {"slug": "minter", "repositories": ["app"]}
    seed = write_seed(
        tmp_path,
        {"acme": {"app": {".github/workflows/t.yml": workflow}, "other": {"README.md": "# other\n"}}},
        repo_meta={"acme/app": {"secrets": ["REPO_ONLY"]}},
        org_meta={"acme": {"tokens": {ADMIN: "full", WRITER: "write"}, "apps": [app],
                           "secrets": {"APP_ID": str(APP_ID), "APP_KEY": app_key or key.private_pem}}},
    )  # fmt: skip
    with running_sandbox(seed, clock=FakeClock()) as sandbox:
        yield sandbox


def _valid(method: str, path: str, status: int, body: Any) -> None:
    template = next(t for pattern, t in _templates() if pattern.match(path.partition("?")[0]))
    schema = _schema(template, method, status)
    assert schema is not None, template
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(body))
    assert error is None, f"{method} {template}: {error.message[:300]} at {list(error.absolute_path)}"


@pytest.mark.skipif(not OPENAPI.is_file(), reason="github-reference is not available")
def test_installations_and_secrets_answer_in_githubs_shapes(tmp_path: Path, key: AppKey) -> None:
    for sandbox in _sandbox(tmp_path, key, STEP % ("app", "write")):
        status, _h, body = call(sandbox, "GET", "/orgs/acme/installations")
        assert status == 200
        _valid("GET", "/orgs/acme/installations", status, body)
        [installation] = body["installations"]
        assert (installation["app_slug"], installation["repository_selection"]) == ("minter", "selected")
        assert call(sandbox, "GET", "/orgs/acme/installations", token=WRITER)[0] == 403
        status, _h, body = call(sandbox, "GET", "/apps/minter", token=WRITER)
        _valid("GET", "/apps/minter", status, body)
        assert body["id"] == APP_ID
        for path in ("/orgs/acme/actions/secrets", "/repos/acme/app/actions/secrets"):
            status, _h, body = call(sandbox, "GET", path)
            _valid("GET", path, status, body)
        assert [s["name"] for s in call(sandbox, "GET", "/repos/acme/app/actions/secrets")[2]["secrets"]] == [
            "REPO_ONLY"
        ]


def _minted(sandbox: Sandbox) -> tuple[str, str]:
    sha = push(sandbox, "chore: mint")
    [run] = runs(sandbox, f"?head_sha={sha}")
    job = jobs(sandbox, run["id"])["mint"]
    return str(job["conclusion"]), job_log(sandbox, job["id"])


def test_the_step_mints_an_installation_token_for_a_covered_repository(tmp_path: Path, key: AppKey) -> None:
    for sandbox in _sandbox(tmp_path, key, STEP % ("app", "write")):
        conclusion, log = _minted(sandbox)
        assert conclusion == "success", log
        assert "as minter[bot]" in log and "ghs_" not in log
        assert len(sandbox.minted_tokens()) == 1


@pytest.mark.parametrize(
    ("repositories", "permission", "wrong_key", "says"),
    [
        ("other", "write", False, "not accessible to the parent installation"),
        ("app", "admin", False, "The permissions requested are not granted"),
        ("app", "write", True, "A JSON web token could not be decoded"),
    ],
)
def test_the_step_fails_as_github_would(
    tmp_path: Path, key: AppKey, repositories: str, permission: str, wrong_key: bool, says: str
) -> None:
    other = AppKey.generate().private_pem if wrong_key else None
    for sandbox in _sandbox(tmp_path, key, STEP % (repositories, permission), app_key=other):
        conclusion, log = _minted(sandbox)
        assert conclusion == "failure" and says in log, log
        assert sandbox.minted_tokens() == []
