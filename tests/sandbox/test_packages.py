"""GHCR package versions from the Actions model's registry: GitHub's shape (validated against its OpenAPI
description), newest first, a tag pushed again moving to the newer version, GitHub's 404 for an unknown image."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from migrator.sandbox.actions.model import ImagePush
from migrator.sandbox.rest.packages import versions_of
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.sandbox.test_actions_contract import OPENAPI
from tests.sandbox.test_openapi_contract import _schema

TOKEN = "tok-admin-0123456789"
TEMPLATE = "/orgs/{org}/packages/{package_type}/{package_name}/versions"


def _push(tag: str, run_id: int, at: float, *, job: str = "image", workflow: str = "docker.yml") -> ImagePush:
    return ImagePush(
        image="ghcr.io/acme/app",
        tag=tag,
        repository="acme/app",
        run_id=run_id,
        workflow=f".github/workflows/{workflow}",
        job=job,
        event="release",
        ref="refs/tags/v1.2.0",
        sha="c0ffee",
        pushed_at=at,
    )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    seed = write_seed(
        tmp_path / "seed", {"acme": {"app": {"README.md": "# app\n"}}}, org_meta={"acme": {"tokens": {TOKEN: "full"}}}
    )
    with running_sandbox(seed) as running:
        with running.store.lock:
            running.store.registry.extend(
                [
                    _push("1.2.0", 7, 1_750_000_000.0),
                    _push("latest", 7, 1_750_000_000.0),
                    _push("1.2.0", 8, 1_750_000_030.0, workflow="release.yml", job="docker"),  # the race
                ]
            )
        yield running


def _get(sandbox: Sandbox, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(sandbox.url + path, headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_versions_newest_first_and_an_overwritten_tag_moves(sandbox: Sandbox) -> None:
    status, body = _get(sandbox, "/orgs/acme/packages/container/app/versions?per_page=100")
    assert status == 200
    assert [(v["metadata"]["container"]["tags"], v["created_at"]) for v in body] == [
        (["1.2.0"], "2025-06-15T15:07:10Z"),
        (["latest"], "2025-06-15T15:06:40Z"),  # 1.2.0 moved to the newer push
    ]
    assert body[0]["name"].startswith("sha256:") and body[0]["name"] != body[1]["name"]
    assert body[0]["package_html_url"].endswith("/orgs/acme/packages/container/package/app")


@pytest.mark.skipif(not OPENAPI.is_file(), reason="github-reference is not available")
def test_the_answer_matches_githubs_openapi(sandbox: Sandbox) -> None:
    _, body = _get(sandbox, "/orgs/acme/packages/container/app/versions")
    schema = _schema(TEMPLATE, "GET", 200)
    assert schema is not None
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(body)]
    assert errors == []


def test_an_image_nobody_pushed_is_githubs_404(sandbox: Sandbox) -> None:
    status, body = _get(sandbox, "/orgs/acme/packages/container/other/versions")
    assert (status, body["message"]) == (404, "Package not found.")
    assert _get(sandbox, "/orgs/acme/packages/npm/app/versions")[0] == 404


def test_versions_of_ignores_other_images_and_case() -> None:
    other = ImagePush("ghcr.io/acme/other", "1", "acme/other", 1, "w", "j", "push", "refs/heads/main", "s", 1.0)
    assert [v.tags for v in versions_of([_push("1", 1, 2.0), other], "GHCR.IO/ACME/APP")] == [("1",)]
