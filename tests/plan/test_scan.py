"""Planning end to end against a fake reader: dispositions, selection, the file, the digest contract."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migrator.analysis.context import RuleSettings
from migrator.errors import InputError
from migrator.github.types import Protection, SecretNames, TokenInfo
from migrator.plan.model import Disposition, Plan, digest_of
from migrator.plan.planfile import read_plan, write_plan
from migrator.plan.scan import ScanOptions, scan
from migrator.plan.selection import Selection
from tests.golden import golden_tree
from tests.plan.fakes import FakeReader, record

NOW = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)


def options(**selection: object) -> ScanOptions:
    return ScanOptions(
        org="acme",
        api_url="https://api.github.com",
        selection=Selection(**selection),  # type: ignore[arg-type]
        settings=RuleSettings(),
        now=NOW,
    )


def plan_of(reader: FakeReader, **selection: object) -> Plan:
    return scan(reader, options(**selection))


def org_secrets(*names: str) -> SecretNames:
    return SecretNames(frozenset(), frozenset(names))


def test_reference_repo_plans_safe_changes_with_its_base() -> None:
    reader = FakeReader([record("acme/service", golden_tree("reference"))], {"acme/service": org_secrets("PAT_TOKEN")})
    plan = plan_of(reader)
    (repo,) = plan.repos
    assert repo.branch == "migrator/acme-redundant-docker-token-mismatch"  # the default campaign
    assert repo.base_oid == reader.records[0].head_oid
    assert [(c.path, c.action, c.disposition) for c in repo.changes] == [
        (".github/workflows/docker-build.yml", "delete", Disposition.SAFE),
        (".github/workflows/docker.yml", "delete", Disposition.SAFE),
        (".github/workflows/main.yml", "modify", Disposition.SAFE),
        ("README.md", "modify", Disposition.SAFE),
    ]
    main = repo.changes[2]
    assert main.blob_before == reader.records[0].files[".github/workflows/main.yml"].blob_sha
    assert main.after is not None and "secrets.PAT_TOKEN" in main.after
    assert repo.commit_message.startswith("ci: ")
    assert plan.marker("acme/service") in repo.body


def test_missing_pat_secret_blocks_only_the_token_fix() -> None:
    reader = FakeReader([record("acme/service", golden_tree("reference"))])  # no secrets anywhere
    (repo,) = plan_of(reader).repos
    by_path = {c.path: c for c in repo.changes}
    main = by_path[".github/workflows/main.yml"]
    assert main.disposition is Disposition.BLOCKED and not main.enabled
    assert "PAT_TOKEN exists neither" in main.reasons[0]
    assert by_path[".github/workflows/docker.yml"].disposition is Disposition.SAFE


def test_unlistable_secrets_turn_the_token_fix_into_review() -> None:
    reader = FakeReader([record("acme/service", golden_tree("reference"))], {"acme/service": SecretNames(None, None)})
    (repo,) = plan_of(reader).repos
    main = next(c for c in repo.changes if c.path.endswith("main.yml"))
    assert main.disposition is Disposition.REVIEW
    assert any("could not verify" in r for r in main.reasons)


def test_token_without_workflow_scope_blocks_workflow_changes() -> None:
    reader = FakeReader(
        [record("acme/service", golden_tree("reference"))],
        {"acme/service": org_secrets("PAT_TOKEN")},
        token=TokenInfo("bot", ("repo",), False),
    )
    (repo,) = plan_of(reader).repos
    assert {c.disposition for c in repo.changes if c.path.startswith(".github/")} == {Disposition.BLOCKED}
    assert not repo.enabled


def test_enforce_admins_is_a_warning_in_the_plan() -> None:
    guarded = record(
        "acme/service", golden_tree("reference"), protection=Protection(enforce_admins=True, required_checks=("ci",))
    )
    (repo,) = plan_of(FakeReader([guarded], {"acme/service": org_secrets("PAT_TOKEN")})).repos
    assert any("enforces protection for admins" in w for w in repo.warnings)
    assert any("ci" in w for w in repo.warnings)


def test_selection_skips_with_reasons_and_secrets_are_read_only_when_needed() -> None:
    records = [
        record("acme/archived", golden_tree("reference"), archived=True),
        record("acme/fork", golden_tree("reference"), fork=True),
        record("acme/ignored", golden_tree("reference"), topics=("migrator-ignore",)),
        record("acme/clean", golden_tree("never-touched")),
        record("acme/service", golden_tree("reference")),
    ]
    reader = FakeReader(records)
    plan = plan_of(reader)
    assert [r.name for r in plan.repos] == ["acme/service"]
    assert dict(plan.skipped) == {
        "acme/archived": "archived (--include-archived to scan it)",
        "acme/fork": "a fork (--include-forks to scan it)",
        "acme/ignored": "opted out with the `migrator-ignore` topic",
    }
    assert reader.secret_lookups == ["acme/service"]
    assert [r.name for r in plan_of(FakeReader(records), include_archived=True, repos=("archived",)).repos] == [
        "acme/archived"
    ]


def test_plans_are_deterministic(tmp_path: Path) -> None:
    def build() -> bytes:
        reader = FakeReader([record("acme/b", golden_tree("reference")), record("acme/a", golden_tree("cross-file"))])
        return write_plan(plan_of(reader), tmp_path / "p.json").read_bytes()

    assert build() == build()


def test_reviewer_may_flip_switches_and_the_edit_is_visible(tmp_path: Path) -> None:
    path = write_plan(plan_of(FakeReader([record("acme/service", golden_tree("reference"))])), tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["repos"][0]["changes"][1]["enabled"] = False
    path.write_text(json.dumps(data))
    loaded = read_plan(path)
    assert loaded.edits == ("acme/service .github/workflows/docker.yml: disabled by a reviewer",)
    assert not loaded.plan.repos[0].changes[1].enabled


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda d: d["repos"][0]["changes"][2].update(after="evil"), "digest mismatch"),
        (lambda d: d["repos"][0]["changes"][0].update(path="../../etc/passwd"), "climbs out"),
        (lambda d: d["repos"][0]["changes"][0].update(path="src/app.py"), "outside .github/workflows"),
        (lambda d: d["repos"][0]["changes"][0].update(action="chmod"), "schema"),
        (lambda d: d.update(format_version=99), "newer than this migrator"),
        (lambda d: d["repos"][0]["changes"][2].update(disposition="safe", default_enabled=True), "digest"),
    ],
)
def test_tampered_plans_are_refused_in_one_line(tmp_path: Path, tamper: object, message: str) -> None:
    reader = FakeReader([record("acme/service", golden_tree("reference"))])  # blocked token fix: something to promote
    path = write_plan(plan_of(reader), tmp_path / "p.json")
    data = json.loads(path.read_text())
    assert data["repos"][0]["changes"][2]["disposition"] == "blocked"
    tamper(data)  # type: ignore[operator]
    if "digest mismatch" not in message and message != "digest":
        data["digest"] = digest_of(data)  # a careful attacker recomputes it; other checks still catch them
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message) as caught:
        read_plan(path)
    assert "\n" not in caught.value.message


def test_unreadable_plans_are_one_line_errors(tmp_path: Path) -> None:
    for content, message in [(b"\xff\xfe", "UTF-8"), (b"{nope", "not valid JSON")]:
        path = tmp_path / "bad.json"
        path.write_bytes(content)
        with pytest.raises(InputError, match=message):
            read_plan(path)
    with pytest.raises(InputError, match="no such file"):
        read_plan(tmp_path / "missing.json")


def test_schema_in_plans_folder_is_the_one_the_code_uses() -> None:
    shipped = Path(__file__).parents[2] / "migrator" / "data" / "plan.schema.json"
    assert (Path(__file__).parents[2] / "plans" / "plan.schema.json").read_bytes() == shipped.read_bytes()


def test_org_wide_secrets_are_listed_once_instead_of_per_repository() -> None:
    records = [record(f"acme/r{i}", golden_tree("reference")) for i in range(5)]
    reader = FakeReader(records, org_wide=frozenset({"pat_token"}))
    plan = plan_of(reader)
    assert reader.secret_lookups == []
    assert {c.disposition for r in plan.repos for c in r.changes} == {Disposition.SAFE}
