from __future__ import annotations

import pytest

from migrator.workflow.release import package_scripts, runs_semantic_release, text_marker


@pytest.mark.parametrize(
    "script",
    [
        "npx semantic-release",
        "npx -y semantic-release@22",
        "npx -p @semantic-release/git -p semantic-release semantic-release",
        "bunx semantic-release",
        "yarn semantic-release",
        "pnpm dlx semantic-release",
        "npm run semantic-release",
        "bun run semantic-release",
        "if ! bun run semantic-release; then\n  exit 1\nfi",
        "GITHUB_TOKEN=x npx semantic-release",
        "semantic-release publish",
        "semantic-release version && semantic-release publish",
        "python -m semantic_release publish",
        "poetry run semantic-release version",
    ],
)
def test_release_invocations(script: str) -> None:
    assert runs_semantic_release(script, {})


@pytest.mark.parametrize(
    "script",
    [
        "npx semantic-release --dry-run",
        "npx semantic-release -d",
        "semantic-release --noop version",
        "npm install -g semantic-release @semantic-release/git",
        "yarn add -D semantic-release",
        "echo semantic-release",
        "cat node_modules/semantic-release/package.json",
    ],
)
def test_not_release_invocations(script: str) -> None:
    assert not runs_semantic_release(script, {})


def test_package_scripts_resolve_npm_run_targets() -> None:
    scripts = package_scripts(b'{"scripts": {"release": "semantic-release", "build": "tsc"}}')
    assert runs_semantic_release("npm run release", scripts)
    assert runs_semantic_release("yarn release", scripts)
    assert not runs_semantic_release("npm run build", scripts)


def test_unknown_package_json_assumes_a_release_script_is_the_release_tool() -> None:
    assert runs_semantic_release("yarn release", None)
    assert not runs_semantic_release("yarn release", {"release": "release-it"})
    assert text_marker(None).search("      - run: yarn release\n")
    assert not text_marker({"release": "release-it"}).search("run: yarn release")
