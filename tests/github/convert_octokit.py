"""Convert a few of octokit.rb's real GitHub recordings (Ruby VCR, JSON, bodies in base64) into vcrpy
cassettes under cassettes/real/, so the adapter's REST paths are tested on GitHub's real shapes.

    .venv/bin/python -m tests.github.convert_octokit [SOURCE_DIR]

SOURCE_DIR defaults to ../shared/github-reference/octokit-rb-cassettes. What is changed is listed
in cassettes/real/PROVENANCE.md: Authorization headers dropped, bodies decoded, and where octokit
addressed a resource another way than the adapter does, the request path is re-targeted.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from tests.github.vcr_config import CASSETTES

SOURCE = Path(__file__).resolve().parents[3] / "shared" / "github-reference" / "octokit-rb-cassettes"
OUT = CASSETTES / "real"
REPO = "/repos/octokit-fixture/secret-repo"
DROPPED_REQUEST_HEADERS = frozenset({"authorization"})
# The body is stored decoded, so these no longer describe it.
DROPPED_RESPONSE_HEADERS = frozenset({"transfer-encoding", "content-encoding", "content-length"})

SECRETS = "Octokit_Client_ActionsSecrets"
REPO_TWO = f"{SECRETS}/with_a_repository_with_a_secret/_list_actions_secrets/returns_list_of_two_secrets.json"
REPO_PAGES = f"{SECRETS}/with_a_repository_with_a_secret/_list_actions_secrets/auto-paginates_the_results.json"
REPO_NONE = f"{SECRETS}/with_a_repo_without_secrets/_list_actions_secrets/returns_empty_list_of_secrets.json"
ORG_TWO = f"{SECRETS}/with_an_org_with_a_secret/_list_org_actions_secrets/returns_list_of_two_secrets.json"
ORG_PAGES = f"{SECRETS}/with_an_org_with_a_secret/_list_org_actions_secrets/auto-paginates_the_results.json"
MISSING = "Octokit_Client_Repositories/_repository_/returns_false_if_the_repository_doesn_t_exist.json"
USER = "Octokit_Client_Organizations/_organization_membership/returns_an_organization_membership.json"
BLOB = "Octokit_Client_Objects/_blob/returns_a_blob.json"


@dataclass(frozen=True)
class Pick:
    source: str  # a file under SOURCE
    path: str  # the recorded request's path and query (after api.github.com)
    retarget: str | None = None  # the path and query the adapter asks for, when octokit asked another way


CONVERSIONS: dict[str, tuple[Pick, ...]] = {
    "repo_secrets": (
        Pick(REPO_TWO, "/repositories/670362619/actions/secrets", f"{REPO}/actions/secrets?per_page=100"),
        Pick(ORG_TWO, "/orgs/<GITHUB_TEST_ORGANIZATION>/actions/secrets",
             f"{REPO}/actions/organization-secrets?per_page=100"),
    ),
    "repo_secrets_paginated": (
        Pick(REPO_PAGES, "/repositories/670362629/actions/secrets?per_page=1", f"{REPO}/actions/secrets?per_page=1"),
        Pick(REPO_PAGES, "/repositories/670362629/actions/secrets?page=2&per_page=1"),  # as its Link header says
        Pick(ORG_PAGES, "/orgs/<GITHUB_TEST_ORGANIZATION>/actions/secrets?per_page=1",
             f"{REPO}/actions/organization-secrets?per_page=1"),
        Pick(ORG_PAGES, "/organizations/64329988/actions/secrets?page=2&per_page=1"),
    ),
    "repo_secrets_unknown": (
        Pick(REPO_NONE, "/repositories/670362580/actions/secrets", f"{REPO}/actions/secrets?per_page=100"),
        Pick(MISSING, "/repos/pengwynn/octokit", f"{REPO}/actions/organization-secrets?per_page=100"),
    ),
    "user_without_scopes": (Pick(USER, "/user"),),
    "blob": (Pick(BLOB, "/repos/sferik/rails_admin/git/blobs/94616fa57520ac8147522c7cf9f03d555595c5ea"),),
}


def _path_of(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _interaction(source: Path, pick: Pick) -> tuple[Request, dict[str, Any]]:
    recorded = json.loads(source.read_text(encoding="utf-8"))["http_interactions"]
    gets = (i for i in recorded if i["request"]["method"] == "get")
    found = next((i for i in gets if _path_of(i["request"]["uri"]) == pick.path), None)
    if found is None:
        raise SystemExit(f"{source.name}: no GET {pick.path}")
    uri = found["request"]["uri"]
    if pick.retarget:
        parts = urlsplit(uri)
        path, _, query = pick.retarget.partition("?")
        uri = urlunsplit((parts.scheme, parts.netloc, path, query, ""))
    headers = {k: v for k, v in found["request"]["headers"].items() if k.lower() not in DROPPED_REQUEST_HEADERS}
    request = Request("GET", uri, None, headers)
    raw = found["response"]
    body = raw["body"]
    content = base64.b64decode(body["base64_string"]) if "base64_string" in body else body.get("string", "").encode()
    response = {
        "status": {"code": raw["status"]["code"], "message": raw["status"]["message"]},
        "headers": {k: v for k, v in raw["headers"].items() if k.lower() not in DROPPED_RESPONSE_HEADERS},
        "body": {"string": content},
    }
    return request, response


def convert(source_dir: Path = SOURCE, out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, picks in CONVERSIONS.items():
        pairs = [_interaction(source_dir / pick.source, pick) for pick in picks]
        text = serialize({"requests": [p[0] for p in pairs], "responses": [p[1] for p in pairs]}, yamlserializer)
        path = out / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in convert(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE):
        print(written_path.relative_to(CASSETTES.parent), file=sys.stderr)
