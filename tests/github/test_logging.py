"""No token reaches a log line, whatever happens during a run; every event names its step."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from migrator import log
from migrator.errors import AuthError
from migrator.log import TOKEN_PATTERN
from migrator.sandbox.testing import Sandbox
from tests.github.support import ADMIN, ORG, TOKENS, UNKNOWN, Waits, make_client

SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    log.configure(json=True, verbose=True, stream=stream)
    try:
        yield stream
    finally:
        structlog.reset_defaults()


def test_no_token_in_any_log_line(sandbox: Sandbox, logged: io.StringIO) -> None:
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "^/graphql$"},
                       "response": {"status": 502, "body": {"message": f"echo token {ADMIN}"}}})
    sandbox.add_fault({"match": {"method": "GET", "path_regex": "/actions/secrets"},
                       "response": {"status": 403, "body": {"message": SECONDARY}}})
    client = make_client(sandbox.url, waits=Waits())
    client.token_info()
    for record in client.repositories(ORG):
        client.secret_names(record.full_name)
    with pytest.raises(AuthError):
        make_client(sandbox.url, UNKNOWN).token_info()

    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    events = {line["event"] for line in lines}
    assert {"github.page_shrunk", "github.retry", "github.page", "github.repository"} <= events
    assert all("step" in line for line in lines)
    assert all("repo" in line for line in lines if line["event"] == "github.repository")
    text = logged.getvalue()
    for token in TOKENS:
        assert token not in text
    assert not TOKEN_PATTERN.search(text)
