"""`action.yml` and the README's example workflow: the action's script builds command lines migrator accepts,
takes inputs only through the environment, and keeps the App key in a private file that it removes.

The script is run for real with bash, against a stand-in `migrator` that records its arguments.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from migrator.cli import build_parser

ROOT = Path(__file__).parents[1]
STUB = """#!{python}
import json, os, sys
key = sys.argv[sys.argv.index("--app-key") + 1] if "--app-key" in sys.argv else None
info = {{"argv": sys.argv[1:], "token": os.environ.get("GITHUB_TOKEN")}}
if key:
    info["key_mode"] = oct(os.stat(key).st_mode & 0o777)
    info["key_text"] = open(key).read()
print(json.dumps(info))
"""


def load_yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def action() -> Any:
    return load_yaml((ROOT / "action.yml").read_text())


def run_step() -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in action()["runs"]["steps"] if s.get("id") == "run")
    return step


def run_action(tmp_path: Path, **inputs: str) -> dict[str, Any]:
    """Run the action's script as the runner would: each input as its environment variable."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "migrator"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path)}
    declared = run_step()["env"]
    for name, expression in declared.items():
        match = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", expression)
        assert match, f"{name} must come straight from an input"
        default = action()["inputs"][match[1]].get("default", "")
        env[name] = inputs.get(match[1].replace("-", "_"), "" if "${{" in default else default)
    env["GITHUB_OUTPUT"] = str(tmp_path / "output")
    script = run_step()["run"]
    done = subprocess.run(["bash", "-c", script], check=False, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    info: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    info["output"] = (tmp_path / "output").read_text()
    return info


def accepted(argv: list[str]) -> None:
    build_parser().parse_args(argv)  # argparse exits (SystemExit) on anything migrator would refuse


def test_inputs_never_reach_the_script_text() -> None:
    for step in action()["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), "an input spliced into a script is a shell injection"


def test_a_shard_plan_with_a_token(tmp_path: Path) -> None:
    info = run_action(tmp_path, command="plan", org="acme", shard="2/4", plan_id="acme-42", token="t0ken")
    argv = info["argv"]
    assert argv == [
        "--log-json", "plan", "--org", "acme", "--shard", "2/4", "--plan-id", "acme-42",
        "--out", "plans/acme-42.shard-2-of-4.json",
    ]
    assert info["token"] == "t0ken"
    assert info["output"] == "plan=plans/acme-42.shard-2-of-4.json\n"
    accepted(argv)


def test_apply_as_an_app_writes_a_private_key_and_drops_any_token(tmp_path: Path) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----"
    info = run_action(
        tmp_path,
        command="apply",
        plan="plans/plan.json",
        shard="1/4",
        app_id="12",
        app_private_key=pem,
        installation_id="34",
        api_url="https://ghe.example.com/api/v3",
        args="--limit 5 --include-review",
    )
    argv = info["argv"]
    assert argv[:3] == ["--log-json", "apply", "plans/plan.json"]
    assert argv[argv.index("--app-id") + 1] == "12" and argv[argv.index("--installation-id") + 1] == "34"
    assert argv[-3:] == ["--limit", "5", "--include-review"]
    assert info["key_mode"] == "0o600" and info["key_text"] == pem + "\n"
    assert info["token"] is None
    assert not (tmp_path / "migrator-app-key.pem").exists()  # removed when the step ends
    accepted(argv)


@pytest.mark.parametrize("command", ["status", "rollback", "show", "merge", "verify", "report"])
def test_other_commands_build_accepted_argv(tmp_path: Path, command: str) -> None:
    info = run_action(tmp_path, command=command, plan="plans/plan.json", token="t", api_url="https://api.github.com")
    assert info["argv"][1:3] == [command, "plans/plan.json"]
    accepted(info["argv"])


@pytest.mark.parametrize("command", ["apply", "merge", "status", "verify", "report", "rollback"])
def test_a_campaign_stands_for_the_plan_file(tmp_path: Path, command: str) -> None:
    info = run_action(tmp_path, command=command, campaign="acme-release", token="t", api_url="https://api.github.com")
    argv = info["argv"]
    assert argv[1] == command and argv[argv.index("--campaign") + 1] == "acme-release"
    accepted(argv)


def test_plan_takes_the_campaign(tmp_path: Path) -> None:
    info = run_action(tmp_path, command="plan", org="acme", campaign="acme-release", token="t")
    assert info["argv"][info["argv"].index("--campaign") + 1] == "acme-release"
    accepted(info["argv"])


def test_plan_merge_expands_the_shard_globs(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    for k in (1, 2):
        (tmp_path / "plans" / f"x.shard-{k}-of-2.json").write_text("{}")
    info = run_action(tmp_path, command="plan-merge", shards="plans/*.shard-*.json", plan="plan.json")
    assert info["argv"] == [
        "--log-json", "plan", "merge", "plans/x.shard-1-of-2.json", "plans/x.shard-2-of-2.json", "--out", "plan.json"
    ]
    accepted(info["argv"])


def readme_workflow() -> Any:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"```yaml\n(# \.github/workflows/migrator\.yml\n.*?)```", text, re.DOTALL)
    assert match, "the README shows an example .github/workflows/migrator.yml"
    return load_yaml(match[1])


def test_the_readme_workflow_plans_in_a_matrix_and_applies_after_review() -> None:
    workflow = readme_workflow()
    jobs = workflow["jobs"]
    assert set(jobs) == {"plan", "merge", "apply"}
    assert jobs["merge"]["needs"] == "plan" and jobs["apply"]["needs"] == "merge"
    assert "environment" in jobs["apply"], "a person approves the plan between the jobs"
    assert jobs["plan"]["strategy"]["matrix"]["shard"] == jobs["apply"]["strategy"]["matrix"]["shard"]
    uses = [s for job in jobs.values() for s in job["steps"] if "migrator@" in str(s.get("uses", ""))]
    commands = sorted({s["with"]["command"] for s in uses})
    assert commands == ["apply", "plan", "plan-merge", "show"]
    known = set(action()["inputs"])
    for step in uses:
        assert set(step["with"]) <= known, f"unknown action inputs: {set(step['with']) - known}"
    uploads = [s for job in jobs.values() for s in job["steps"] if "upload-artifact" in str(s.get("uses", ""))]
    assert any("plan" in str(s["with"]["name"]) for s in uploads)
    assert any("journal" in str(s["with"]["path"]) for s in uploads)
