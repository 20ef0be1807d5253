"""Re-record the sandbox cassettes under cassettes/sandbox/.

    .venv/bin/python -m tests.github.record_cassettes

Each scenario runs the adapter against a sandbox on `cassette_seed`, with vcrpy recording
(Authorization headers filtered out, the sandbox's port rewritten to REPLAY_URL's).
test_cassettes.py replays them with record_mode="none".
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from migrator.errors import MigratorError
from migrator.github.client import GitHubClient
from migrator.sandbox.testing import Sandbox, running_sandbox, write_seed
from tests.github.support import ADMIN, NO_WORKFLOW, UNKNOWN, make_client
from tests.github.vcr_config import CASSETTES, cassette_vcr

ORG = "octo"
TRUNCATE_AT = 256  # a small GraphQL text limit, so a short workflow exercises the REST blob fallback
LONG = "name: long\non: push\njobs:\n" + "".join(f"  job{i}:\n    runs-on: ubuntu-latest\n    steps: []\n"
                                                for i in range(12))
CI = "name: ci\r\non: push\r\njobs: {}\r\n"
TAG_RULESET = {"name": "release tags", "target": "tag", "enforcement": "active",
               "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
               "rules": [{"type": "creation"}, {"type": "deletion"}],
               "bypass_actors": [{"actor_type": "Integration", "actor_id": 77, "bypass_mode": "always"},
                                 {"actor_type": "RepositoryRole", "actor_id": 5}]}


def cassette_seed(root: Path) -> Path:
    return write_seed(
        root,
        {ORG: {
            "alpha": {".github/workflows/ci.yml": CI, "README.md": "# alpha ✓\n", "package.json": '{"name":"a"}\n'},
            "beta": {".github/workflows/long.yaml": LONG, ".github/workflows/bin.yml": b"\x00\x01"},
            "gamma": {"README.md": "# gamma\n"},
            "delta": {"README.md": "# delta\n"},
        }},
        repo_meta={
            f"{ORG}/alpha": {"topics": ["release"], "secrets": ["DEPLOY_KEY"],
                             "protection": {"enforce_admins": True, "contexts": ["ci"], "required_reviews": 1},
                             "rulesets": [TAG_RULESET]},
            f"{ORG}/gamma": {"archived": True},
            f"{ORG}/delta": {"fork": True, "visibility": "private"},
        },
        org_meta={ORG: {"secrets": ["RELEASE_PAT"], "tokens": {ADMIN: "full", NO_WORKFLOW: "no-workflow"},
                        "actions": {"allowed_actions": "selected", "sha_pinning_required": True,
                                    "selected_actions": {"patterns_allowed": ["docker/*"]}}}},
    )


def read_org(client: GitHubClient, _sandbox: Sandbox) -> None:
    client.token_info()
    client.actions_policy(ORG)
    client.count_repositories(ORG)
    for record in client.repositories(ORG):
        client.secret_names(record.full_name)


def shrink_page(client: GitHubClient, sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "^/graphql$"},
                       "response": {"status": 502, "body": {"message": "Server Error"}}})
    list(client.repositories(ORG))


def shard_read(client: GitHubClient, _sandbox: Sandbox) -> None:
    listed = list(client.repository_names(ORG))
    list(client.repositories_named(ORG, [item for item in listed if item.full_name != f"{ORG}/gamma"]))


def expect_error(action: Callable[[GitHubClient], Any]) -> Callable[[GitHubClient, Sandbox], None]:
    def run(client: GitHubClient, _sandbox: Sandbox) -> None:
        with contextlib.suppress(MigratorError):
            action(client)

    return run


# cassette name -> (token, scenario)
SCENARIOS: dict[str, tuple[str, Callable[[GitHubClient, Sandbox], None]]] = {
    "read_org": (ADMIN, read_org),
    "shrink_page": (ADMIN, shrink_page),
    "shard_read": (ADMIN, shard_read),
    "no_workflow_scope": (NO_WORKFLOW, lambda client, _sandbox: print(client.token_info(), file=sys.stderr)),
    "bad_token": (UNKNOWN, expect_error(lambda client: client.token_info())),
    "unknown_org": (ADMIN, expect_error(lambda client: next(client.repositories("nope")))),
}
PAGE_SIZE = 2


def record(out: Path = CASSETTES / "sandbox") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        seed = cassette_seed(Path(tmp))
        for name, (token, scenario) in SCENARIOS.items():
            with running_sandbox(seed, blob_truncate_bytes=TRUNCATE_AT) as sandbox:
                port = urlsplit(sandbox.url).port
                path = out / f"{name}.yaml"
                path.unlink(missing_ok=True)
                with cassette_vcr(record=True, sandbox_port=port).use_cassette(str(path)):
                    scenario(make_client(sandbox.url, token, page_size=PAGE_SIZE), sandbox)
                written.append(path)
    return written


if __name__ == "__main__":
    from migrator import log

    log.configure(json=False, verbose=False)
    for written_path in record():
        print(written_path.relative_to(CASSETTES.parent), file=sys.stderr)
