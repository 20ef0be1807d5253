"""The page query reads classic protection's bypass allowances and push restrictions (users, teams, Apps)."""

from __future__ import annotations

from pathlib import Path

from migrator.github.types import Allowances, Protection
from migrator.sandbox.testing import AppKey, running_sandbox, write_seed
from tests.github.support import ADMIN, make_client


def test_the_bulk_read_lists_who_may_bypass_pull_requests_and_who_may_push(tmp_path: Path) -> None:
    app = AppKey.generate().app_entry(77, 456, {"contents": "write", "metadata": "read"}) | {"slug": "release-app"}
    allowances = {"users": ["alice"], "teams": ["release"], "apps": ["release-app"]}
    protection = {"enforce_admins": True, "required_reviews": 1, "bypass_pull_request_allowances": allowances,
                  "restrictions": {"users": [], "teams": [], "apps": ["release-app"]}}  # fmt: skip
    seed = write_seed(
        tmp_path,
        {"acme": {"app": {"README.md": "# app\n"}, "plain": {"README.md": "# plain\n"}}},
        repo_meta={"acme/app": {"protection": protection}, "acme/plain": {"protection": {"required_reviews": 1}}},
        org_meta={"acme": {"apps": [app], "tokens": {ADMIN: "full"}}},
    )
    with running_sandbox(seed) as sandbox:
        records = {r.full_name: r for r in make_client(sandbox.url).repositories("acme")}
    assert records["acme/app"].protection == Protection(
        enforce_admins=True,
        required_reviews=1,
        bypass_pull_requests=Allowances(users=("alice",), teams=("release",), apps=("release-app",), app_ids=(77,)),
        push_allowances=Allowances(apps=("release-app",), app_ids=(77,)),
    )
    assert records["acme/plain"].protection == Protection(required_reviews=1)
