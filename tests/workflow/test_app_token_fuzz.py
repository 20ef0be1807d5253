"""The fuzzed editor, extended to release-app-token's inserted steps (on the same generated workflows).

For every generated case the App fix must
  (a) read back, through a YAML parser, as the predicted document: the two inserted steps exactly as specified
      (pinned action, scoped inputs, least permissions; the bot's user id lookup) before the first step of the
      release job that reads the token, the checkout's `token:`, the release step's token env and git identity,
      x-access-token URLs reading `$RELEASE_APP_TOKEN`, and nothing else anywhere in the document;
  (b) leave every byte outside the edited spans as it was, every edit inside the release job;
  (c) be idempotent: nothing left to fix.
The prediction is made on the parsed document, never on the rule's own view of the file.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import event, given, settings

from migrator.checker import check_snapshot
from migrator.model import Fix, RepoSnapshot, Safety, TextEdit
from migrator.rules import release_app_token
from tests.workflow.strategies import PATH, Case, apply, load_yaml, token_cases
from tests.workflow.test_edit_fuzz import FUZZ

TOKEN = "${{ steps.app-token.outputs.token }}"
SLUG = "${{ steps.app-token.outputs.app-slug }}"
EMAIL = "${{ steps.app-user.outputs.user-id }}+" + SLUG + "[bot]@users.noreply.github.com"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": SLUG + "[bot]",
    "GIT_AUTHOR_EMAIL": EMAIL,
    "GIT_COMMITTER_NAME": SLUG + "[bot]",
    "GIT_COMMITTER_EMAIL": EMAIL,
}
RELEASE_ACTIONS = ("cycjimmy/semantic-release-action", "python-semantic-release/python-semantic-release")
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_URL = re.compile(r"x-access-token:\$\{\{.*?\}\}")
_URL_VAR = re.compile(r"x-access-token:\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def app_fixes(text: str) -> list[Fix]:
    snapshot = RepoSnapshot.of("acme/app", {PATH: text.encode("utf-8")})
    return check_snapshot(snapshot, rules=[release_app_token.RULE]).fixes(include_review=True)


def _norm(value: Any) -> Any:
    """Expressions compared whatever their inner spacing (the fix follows the file's)."""
    if isinstance(value, str):
        return _EXPRESSION.sub(lambda m: "${{ " + m.group(1) + " }}", value)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def inserted_steps(permissions: list[str]) -> list[dict[str, Any]]:
    mint = {
        "name": "Create a GitHub App token for the release",
        "id": "app-token",
        "uses": f"actions/create-github-app-token@{release_app_token.ACTION_SHA}",
        "with": {
            "app-id": "${{ vars.RELEASE_APP_ID }}",
            "private-key": "${{ secrets.RELEASE_APP_PRIVATE_KEY }}",
            "owner": "acme",
            "repositories": "app",
            **{f"permission-{p}": "write" for p in permissions},
        },
    }
    lookup = {
        "name": "Look up the App bot's user id (for the release commit's author)",
        "id": "app-user",
        "env": {"GH_TOKEN": TOKEN, "APP_SLUG": SLUG},
        "run": 'echo "user-id=$(gh api "/users/${APP_SLUG}[bot]" --jq .id)" >> "$GITHUB_OUTPUT"',
    }
    return [mint, lookup]


def _is_release(step: dict[str, Any]) -> bool:
    uses = str(step.get("uses") or "")
    if uses.split("@", maxsplit=1)[0] in RELEASE_ACTIONS:
        return True
    run = str(step.get("run") or "")
    return ("semantic-release" in run and "--dry-run" not in run) or "semantic_release" in run


def _is_python_release(step: dict[str, Any]) -> bool:
    """python-semantic-release needs no issues or pull-requests permission (it comments on neither)."""
    uses = str(step.get("uses") or "").split("@")[0]
    run = str(step.get("run") or "")
    return (
        uses == "python-semantic-release/python-semantic-release"
        or re.search(r"semantic_release|semantic-release\s+(?:version|publish)", run) is not None
    )


def _same_repo_checkout(step: dict[str, Any]) -> bool:
    if not str(step.get("uses") or "").startswith("actions/checkout@"):
        return False
    repository = (step.get("with") or {}).get("repository")
    return repository is None or "github.repository" in str(repository)


def predict(before: Any, job_id: str) -> Any:
    """The document the fix must produce, from the parsed document and the release job's id."""
    doc = copy.deepcopy(_norm(before))
    job = doc["jobs"][job_id]
    steps: list[dict[str, Any]] = job["steps"]
    release = [i for i, s in enumerate(steps) if _is_release(s)]
    first, last = release[0], release[-1]
    before_steps = copy.deepcopy(steps)
    checkout = next((i for i in range(first) if _same_repo_checkout(steps[i])), None)
    env_levels = [doc.get("env") or {}, job.get("env") or {}]
    touched = list(release)
    for index, step in enumerate(steps[: last + 1]):
        added: dict[str, str] = {}
        if isinstance(step.get("run"), str):
            lines = step["run"].split("\n")
            live = [line for line in lines if not line.lstrip().startswith("#")]
            if any(_URL.search(line) for line in live):
                added["RELEASE_APP_TOKEN"] = TOKEN
            for match in (m for line in live for m in _URL_VAR.finditer(line)):
                if any(match.group(1) in e for e in [*env_levels, step.get("env") or {}]):
                    added[match.group(1)] = TOKEN
            step["run"] = "\n".join(
                line if line.lstrip().startswith("#") else _URL.sub("x-access-token:${RELEASE_APP_TOKEN}", line)
                for line in lines
            )
        if index in release:
            with_ = step.get("with") or {}
            inputs = [k for k in ("github_token", "github-token", "gh_token", "gh-token") if k in with_]
            for key in inputs:
                with_[key] = TOKEN
            seen = [
                n for n in ("GH_TOKEN", "GITHUB_TOKEN") if any(n in e for e in [*env_levels, step.get("env") or {}])
            ]
            for name in seen or ([] if inputs else ["GITHUB_TOKEN"]):
                added[name] = TOKEN
            added.update(GIT_IDENTITY)
        if added:
            step["env"] = {**(step.get("env") or {}), **added}
            touched.append(index)
    if checkout is not None:
        with_ = steps[checkout].get("with") or {}
        persisted = str(with_.get("persist-credentials", "true")).lower() != "false"
        if persisted or "token" in with_:
            steps[checkout]["with"] = {**with_, "token": TOKEN}
            touched.append(checkout)
    at = min(touched)  # the App token step precedes the first step that reads the token
    python = all(_is_python_release(before_steps[i]) for i in release)
    steps[at:at] = inserted_steps(["contents"] if python else ["contents", "issues", "pull-requests"])
    return doc


def _release_job_id(fixed: Any) -> str:
    return next(
        job_id
        for job_id, job in fixed["jobs"].items()
        if any(str(s.get("uses") or "").startswith(release_app_token.ACTION) for s in job.get("steps") or [])
    )


def check_app_case(case: Case) -> bool:
    """Assert (a), (b), (c); False when the rule declined the case (a flow-style step it will not edit)."""
    fixes = app_fixes(case.text)
    if not fixes:
        return False
    assert all(fix.safety is Safety.REVIEW for fix in fixes)
    edits = sorted(e for fix in fixes for e in fix.edits if isinstance(e, TextEdit))
    fixed = apply(case.text, fixes)
    parsed = load_yaml(fixed)
    # (a) the predicted document
    assert _norm(parsed) == predict(case.before, _release_job_id(parsed)), "the fix does not read as predicted"
    # (b) bytes outside the edited spans, in order; every edit inside the release job
    low, high = case.release
    assert all(low <= e.start and e.end <= high + 1 for e in edits), "an edit lies outside the release job"
    cursor = out = 0
    for edit in edits:
        gap = case.text[cursor : edit.start]
        assert fixed[out : out + len(gap)] == gap, f"bytes before offset {edit.start} changed"
        out += len(gap) + len(edit.text)
        cursor = edit.end
    assert fixed[out:] == case.text[cursor:], "bytes after the last edit changed"
    # (c) idempotent
    assert app_fixes(fixed) == []
    return True


@settings(FUZZ, max_examples=150)
@given(case=token_cases())
def test_app_token_fix_is_surgical_predicted_and_idempotent(case: Case) -> None:
    event("fixed" if check_app_case(case) else "declined (a step the rule will not edit cleanly)")


def test_a_remote_set_before_the_checkout_reads_a_token_minted_before_it() -> None:
    # Found by fuzzing: the App token step went before the checkout, after a step that already read its output,
    # and that step's new `env:` landed on the inserted step (a duplicate key).
    text = (
        "on: push\njobs:\n  release:\n    env:\n      GH_TOKEN: ${{ secrets.RELEASE_PAT }}\n    steps:\n"
        "    - run: git remote set-url origin https://x-access-token:$GH_TOKEN@github.com/a/b.git\n"
        "    - uses: actions/checkout@v4\n"
        "    - run: npx semantic-release\n"
    )
    fixed = apply(text, app_fixes(text))
    steps = load_yaml(fixed)["jobs"]["release"]["steps"]
    assert [s.get("id") for s in steps[:2]] == ["app-token", "app-user"]
    assert steps[2]["env"] == {"GH_TOKEN": TOKEN} and "x-access-token:$GH_TOKEN@" in steps[2]["run"]
    assert app_fixes(fixed) == []
