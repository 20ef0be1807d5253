"""plan -> apply -> status -> rollback end to end as a GitHub App, against the GHES layout, and both at once.

The sandbox's clock moves with every request, and installation tokens live a minute of it, so every command
needs several tokens: either the adapter sees its token near expiry and mints a new one first, or GitHub (the
sandbox) refuses it with 401 and the adapter mints one and sends the request again, writes included. No token
the sandbox minted may show up in anything migrator wrote or printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.github import auth as auth_module
from migrator.sandbox.testing import AppKey, FakeClock, Sandbox, running_sandbox, write_seed
from tests.golden import golden_tree

APP_ID, INSTALLATION = 4242, 424242
TOKEN = "tok-admin-e2e-0123456789"
REPOS = ("alpha", "beta", "gamma", "delta")
PERMISSIONS = {"contents": "write", "pull_requests": "write", "workflows": "write", "secrets": "read",
               "metadata": "read"}
TTL = 60  # seconds of the sandbox's clock


@dataclass(frozen=True)
class Mode:
    app: bool
    ghes: bool
    step: float  # how far the sandbox's clock moves with each request

    @property
    def expect_401(self) -> bool:
        """With steps longer than the adapter's 20 s margin, a token it judged fresh can expire on the way."""
        return self.app and self.step > 20


MODES = {
    "app": Mode(app=True, ghes=False, step=30),  # GitHub refuses tokens in flight: 401, re-mint, send again
    "ghes-token": Mode(app=False, ghes=True, step=30),
    "app-ghes": Mode(app=True, ghes=True, step=15),  # the adapter re-mints ahead of expiry: never a 401
}


@pytest.fixture(scope="module")
def key() -> AppKey:
    return AppKey.generate()


@dataclass
class World:
    sandbox: Sandbox
    clock: FakeClock
    mode: Mode
    tmp: Path
    key_path: Path

    @property
    def api_url(self) -> str:
        return self.sandbox.ghes_url if self.mode.ghes else self.sandbox.url

    def connection(self) -> list[str]:
        flags = ["--api-url", self.api_url]
        if self.mode.app:
            flags += ["--app-id", str(APP_ID), "--app-key", str(self.key_path), "--installation-id", str(INSTALLATION)]
        return flags


@pytest.fixture(params=sorted(MODES))
def world(
    request: pytest.FixtureRequest, key: AppKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    mode = MODES[request.param]
    seed = write_seed(
        tmp_path / "seed",
        {"acme": {name: golden_tree("reference") for name in REPOS}},
        org_meta={
            "acme": {
                "secrets": ["PAT_TOKEN", "NPM_TOKEN", "SLACK_HOOK"],  # more than a page: REST follows Links
                "tokens": {TOKEN: "full"},
                "apps": [key.app_entry(APP_ID, INSTALLATION, PERMISSIONS)],
            }
        },
    )
    key_path = tmp_path / "app.pem"
    key_path.write_text(key.private_pem)
    clock = FakeClock()
    monkeypatch.setattr(auth_module, "_now", clock)  # migrator signs JWTs and judges expiry by the sandbox's time
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    monkeypatch.chdir(tmp_path)
    if mode.app:
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GH_TOKEN", raising=False)
    else:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with running_sandbox(seed, clock=clock, installation_token_ttl=TTL, max_per_page=2) as sandbox:
        sandbox.on_request(lambda _request: clock.advance(mode.step))
        yield World(sandbox, clock, mode, tmp_path, key_path)


def run(world: World, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["-v", *argv, *world.connection()])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def written_files(root: Path) -> dict[Path, str]:
    return {p: p.read_bytes().decode("utf-8", errors="replace") for p in root.rglob("*") if p.is_file()
            and "seed" not in p.relative_to(root).parts}


def test_plan_apply_status_rollback(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox, outputs, minted = world.sandbox, [], []
    plan = world.tmp / "plan.json"

    def step(*argv: str) -> None:
        before = len(sandbox.minted_tokens())
        code, output = run(world, capsys, *argv)
        outputs.append(output)
        assert code == 0, output
        minted.append(len(sandbox.minted_tokens()) - before)

    step("plan", "--org", "acme", "--out", str(plan))
    step("apply", str(plan), "--min-interval", "0")
    for name in REPOS:
        repo = sandbox.store.repo("acme", name)
        assert repo is not None
        pulls = [p for p in repo.pulls.values() if p.state == "open"]
        assert len(pulls) == 1 and pulls[0].head_ref.startswith("migrator/"), name
        assert pulls[0].head_ref in repo.branches()
    step("status", str(plan))
    step("rollback", str(plan), "--min-interval", "0")
    for name in REPOS:
        repo = sandbox.store.repo("acme", name)
        assert repo is not None
        assert all(p.state == "closed" and not p.merged for p in repo.pulls.values()), name
        assert repo.branches() == ["main"], name

    if world.mode.app:
        assert minted[0] >= 2 and minted[1] >= 2, minted  # plan and apply each outlived their first token
    else:
        assert minted == [0, 0, 0, 0]
    tokens = sandbox.minted_tokens()
    assert len(tokens) == sum(minted)
    texts = {f"output of command {i}": text for i, text in enumerate(outputs)}
    texts.update({str(path): text for path, text in written_files(world.tmp).items()})
    assert any("journal" in name for name in texts) and str(plan) in texts
    for where, text in texts.items():
        leaked = [t for t in tokens if t in text]
        assert not leaked, f"an installation token reached {where}"
        assert "ghs_" not in text, where
        assert TOKEN not in text, where

    requests = sandbox.requests()
    refused = [r for r in requests if r.status == 401]
    if world.mode.expect_401:
        assert refused, "no token expired in flight: the test no longer exercises the 401 path"
        assert "github.token_renewed" in outputs[0] and "github.token_renewed" in outputs[1]  # logs were scanned
        rest_writes = [r for r in refused if r.method != "GET" and "graphql" not in r.path]
        assert rest_writes, "no write met an expired token"
    else:
        assert not refused, refused
    if world.mode.ghes:
        paths = [r.path.partition("?")[0] for r in requests]
        assert all(p.startswith("/api/v3/") or p == "/api/graphql" for p in paths), sorted(set(paths))
        assert any("page=2" in r.path for r in requests)  # a Link was followed, and it kept the prefix
    minting = [r for r in requests if r.path.endswith("/access_tokens")]
    assert len(minting) == len(tokens) and all(r.status == 201 for r in minting)


@pytest.mark.parametrize("world", ["app", "app-ghes"], indirect=True)
def test_a_bad_app_key_fails_in_one_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.key_path.write_text(AppKey.generate().private_pem)
    code, output = run(world, capsys, "plan", "--org", "acme", "--out", str(world.tmp / "plan.json"))
    assert code != 0
    errors = [line for line in output.splitlines() if line.startswith("migrator: error:")]
    assert len(errors) == 1 and "401" in errors[0] and "Traceback" not in output, output
    assert world.sandbox.minted_tokens() == [] and not (world.tmp / "plan.json").exists()
