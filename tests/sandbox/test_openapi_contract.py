"""Every REST answer the sandbox gives in a whole `migrator demo` (plan, apply, merges and the Actions model's
releases, status, rollback) validates against the response schema GitHub's OpenAPI description gives for that
method, path and status (`../shared/github-reference/openapi/api.github.com.json`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from migrator.apply import pacing
from migrator.cli import main
from migrator.sandbox import server
from migrator.sandbox.http import Request, Response
from tests.sandbox.test_actions_contract import OPENAPI, _nullable, _openapi

pytestmark = pytest.mark.skipif(not OPENAPI.is_file(), reason="github-reference is not available")


def _templates() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for template in _openapi()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        found.append((re.compile(f"^{pattern}$"), template))
    # the most literal template first: /repos/{o}/{r}/releases/latest before /releases/{release_id}
    return sorted(found, key=lambda item: (item[1].count("{"), -len(item[1])))


def _schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    document = _openapi()
    operation = document["paths"][template].get(method.lower()) or {}
    answer = (operation.get("responses") or {}).get(str(status)) or {}
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    schema = ((answer.get("content") or {}).get("application/json") or {}).get("schema")
    if schema is None:
        return None
    return {**_nullable(schema), "components": _nullable({"schemas": document["components"]["schemas"]})}


def test_every_rest_answer_of_the_demo_matches_githubs_openapi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: list[tuple[str, str, int, Any]] = []
    real = server.App._log

    def capture(self: server.App, request: Request, response: Response, *args: Any) -> None:
        if not request.path.startswith("/_sandbox") and request.path not in ("/graphql", "/api/graphql"):
            answers.append((request.method, request.path, response.status, response.body))
        real(self, request, response, *args)

    monkeypatch.setattr(server.App, "_log", capture)
    monkeypatch.setattr(pacing, "_sleep", lambda seconds: None)
    assert main(["demo", "--keep", str(tmp_path)]) == 0
    capsys.readouterr()
    templates = _templates()
    checked: set[tuple[str, str, int]] = set()
    problems = []
    for method, path, status, body in answers:
        if not 200 <= status < 300 or body is None or isinstance(body, bytes):
            continue
        template = next((t for pattern, t in templates if pattern.match(path.removeprefix("/api/v3"))), None)
        assert template is not None, f"{method} {path}: no such path in GitHub's OpenAPI description"
        schema = _schema(template, method, status)
        if schema is None:
            continue
        checked.add((method, template, status))
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(body))
        if error is not None:
            problems.append(f"{method} {template} {status}: {error.message[:200]} at {list(error.absolute_path)}")
    assert sorted(set(problems)) == []
    assert len(checked) >= 15, sorted(checked)
