"""Triggers evaluated as GitHub does, conditions three-valued, and metadata-action tags per event."""

from __future__ import annotations

import pytest

from migrator.analysis import conditions
from migrator.analysis.events import Event, fires, matches, samples
from migrator.analysis.images import publisher
from migrator.analysis.tags import Scope, refs_on
from migrator.workflow import document as d
from migrator.workflow.model import build

MAIN = Event("push", "branch", "main")
DEV = Event("push", "branch", "dev")
TAG = Event("push", "tag", "v1.2.3")
PUBLISHED = Event("release", "tag", "v1.2.3", "published")
PRERELEASED = Event("release", "tag", "v1.2.3", "prereleased")
SCOPE = Scope("acme/app", "main", {})


def triggers(on: str):  # type: ignore[no-untyped-def]
    return build(d.parse("w.yml", f"on:\n{on}\njobs: {{}}\n")).triggers


@pytest.mark.parametrize(
    ("on", "event", "expected"),
    [
        ("  push:\n    branches: [main]", MAIN, True),
        ("  push:\n    branches: [main]", TAG, False),  # branches only: tag pushes never start it
        ("  push:\n    tags: ['v*']", TAG, True),
        ("  push:\n    tags: ['v*']", MAIN, False),
        ("  push:\n    branches-ignore: [main]", DEV, True),
        ("  push:\n    branches-ignore: [main]", MAIN, False),
        ("  push:\n    branches: ['**', '!main']", MAIN, False),
        ("  push:", TAG, True),
        ("  release:\n    types: [published]", PUBLISHED, True),
        ("  release:\n    types: [published]", PRERELEASED, False),
        ("  release:", PRERELEASED, True),
        ("  workflow_dispatch:", MAIN, False),
    ],
)
def test_triggers_fire_as_github_evaluates_them(on: str, event: Event, expected: bool) -> None:
    assert fires(triggers(on), event) is expected


def test_filter_patterns_follow_githubs_glob_syntax() -> None:
    assert matches(["v*.*.*"], "v1.2.3")
    assert not matches(["v*"], "release/v1")
    assert matches(["release/**"], "release/a/b")
    assert matches(["v[12].*"], "v2.0")


def test_samples_make_every_filter_concrete() -> None:
    events = samples([triggers("  push:\n    branches: [main, 'release/*']\n    tags: ['v*']")], "main")
    assert Event("push", "branch", "release/x") in events
    assert Event("push", "tag", "v1") in events
    assert PUBLISHED in events


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${{ github.event_name != 'pull_request' }}", True),
        ("github.ref == 'refs/heads/main' && github.event_name == 'push'", True),
        ("startsWith(github.ref, 'refs/tags/')", False),
        ("needs.release.outputs.published == 'true'", None),  # unknown, never a guess
        ("needs.x.outputs.y == 'true' && github.event_name == 'release'", False),
        ("success() && github.event_name == 'push'", None),
        (None, True),
    ],
)
def test_conditions_are_three_valued(expression: str | None, expected: bool | None) -> None:
    assert conditions.evaluate(expression, MAIN.context("main")) is expected


def _refs(tags: str, event: Event, flavor: str = "") -> set[str]:
    text = (
        "on: push\njobs:\n  b:\n    steps:\n"
        "      - id: meta\n        uses: docker/metadata-action@v5\n        with:\n"
        "          images: ghcr.io/${{ github.repository }}\n"
        f"          tags: |\n{tags}\n{flavor}"
        "      - uses: docker/build-push-action@v6\n        with:\n          push: true\n"
        "          tags: ${{ steps.meta.outputs.tags }}\n"
    )
    workflow = build(d.parse("w.yml", text))
    found = refs_on(publisher(workflow).pushes[0], workflow, event, SCOPE)
    assert found is not None
    return {ref.rsplit(":", 1)[1] for ref in found.known}


def test_metadata_tags_on_branch_and_tag_events() -> None:
    rules = "\n".join(
        f"            {rule}"
        for rule in ("type=ref,event=branch", "type=semver,pattern={{version}}", "type=semver,pattern={{major}}")
    )
    assert _refs(rules, MAIN) == {"main"}
    assert _refs(rules, TAG) == {"1.2.3", "1", "latest"}  # latest=auto on a semver tag
    assert _refs(rules, PUBLISHED) == {"1.2.3", "1", "latest"}  # a release event's ref is its tag
    assert _refs(rules, TAG, "          flavor: latest=false\n") == {"1.2.3", "1"}


def test_metadata_latest_flavor_as_an_expression() -> None:
    flavor = "          flavor: latest=${{ github.ref == 'refs/heads/main' }}\n"
    assert _refs("            type=ref,event=branch", MAIN, flavor) == {"main", "latest"}
    assert _refs("            type=ref,event=branch", DEV, flavor) == {"dev"}


def test_metadata_enable_and_edge() -> None:
    assert _refs("            type=raw,value=latest,enable={{is_default_branch}}", MAIN) == {"latest"}
    assert _refs("            type=raw,value=latest,enable={{is_default_branch}}", DEV) == set()
    assert _refs("            type=edge", MAIN) == {"edge"}
    assert _refs("            type=edge", DEV) == set()


def test_unresolved_names_and_tags_are_unknown_and_never_match() -> None:
    text = (
        'on: push\njobs:\n  b:\n    steps:\n      - run: |\n          for tag in $TAGS; do docker push "$tag"; done\n'
        "          docker push ghcr.io/acme/app:${{ steps.v.outputs.version }}\n"
    )
    workflow = build(d.parse("w.yml", text))
    push = publisher(workflow).pushes[0]
    assert push.images == {"ghcr.io/acme/app"}
    assert push.unresolved
    found = refs_on(push, workflow, MAIN, SCOPE)
    assert found is not None
    assert found.known == frozenset()
    assert found.unknown == 2
