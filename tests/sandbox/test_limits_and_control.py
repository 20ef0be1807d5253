"""Rate limits, auth, faults, the request log and stats, driven by a hand-moved clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.sandbox.http import Request
from migrator.sandbox.limits import SECONDARY_DOCS
from migrator.sandbox.testing import FakeClock, Sandbox, running_sandbox
from tests.sandbox.support import ADMIN, READER, call, graphql


def _create_label(sandbox: Sandbox, name: str, token: str = ADMIN) -> tuple[int, dict[str, str], object]:
    return call(sandbox, "POST", "/repos/acme/lib/labels", token=token, body={"name": name, "color": "ff0000"})


def test_no_token_is_401_and_unknown_token_is_bad_credentials(sandbox: Sandbox) -> None:
    assert call(sandbox, "GET", "/repos/acme/lib", token=None)[2] == {
        "message": "Requires authentication", "documentation_url": "https://docs.github.com/rest"}
    status, _, body = call(sandbox, "GET", "/repos/acme/lib", token="nobody")
    assert (status, body["message"]) == (401, "Bad credentials")


def test_any_token_has_full_power_when_no_tokens_are_listed(tmp_path: Path) -> None:
    (tmp_path / "solo" / "r").mkdir(parents=True)
    (tmp_path / "solo" / "r" / "f.txt").write_text("f")
    with running_sandbox(tmp_path) as sandbox:
        status, headers, _ = call(sandbox, "GET", "/repos/solo/r", token="anything")
        assert status == 200
        assert headers["x-oauth-scopes"] == "admin:org, repo, workflow"


def test_scopes_header_follows_token_power(sandbox: Sandbox) -> None:
    assert call(sandbox, "GET", "/repos/acme/lib", token=READER)[1]["x-oauth-scopes"] == "read:org"


def test_primary_limit_headers_and_exhaustion(seed_dir: Path, clock: FakeClock) -> None:
    with running_sandbox(seed_dir, clock=clock, core_limit=3) as sandbox:
        statuses = [call(sandbox, "GET", "/repos/acme/lib") for _ in range(4)]
        assert [s for s, _, _ in statuses] == [200, 200, 200, 403]
        headers = statuses[2][1]
        assert (headers["x-ratelimit-limit"], headers["x-ratelimit-remaining"], headers["x-ratelimit-used"]) == (
            "3", "0", "3")
        assert headers["x-ratelimit-resource"] == "core"
        assert statuses[3][2]["message"].startswith("API rate limit exceeded for user ID 1.")
        clock.advance(3601)
        assert call(sandbox, "GET", "/repos/acme/lib")[0] == 200


def test_secondary_limit_per_minute_with_retry_after(seed_dir: Path, clock: FakeClock) -> None:
    with running_sandbox(seed_dir, clock=clock, secondary_per_minute=2, secondary_per_hour=10) as sandbox:
        assert [_create_label(sandbox, f"l{i}")[0] for i in range(2)] == [201, 201]
        status, headers, body = _create_label(sandbox, "l2")
        assert status == 403
        assert body["message"].startswith("You have exceeded a secondary rate limit.")
        assert body["documentation_url"] == SECONDARY_DOCS
        assert headers["retry-after"] == "60"
        assert call(sandbox, "GET", "/repos/acme/lib")[0] == 200  # reads are not content-creating
        clock.advance(61)
        assert _create_label(sandbox, "l3")[0] == 201
        assert sandbox.stats()["secondary_limited"] == 1


def test_secondary_limit_per_hour_without_retry_after(seed_dir: Path, clock: FakeClock) -> None:
    with running_sandbox(seed_dir, clock=clock, secondary_per_minute=10, secondary_per_hour=2,
                         secondary_retry_after=False) as sandbox:
        _create_label(sandbox, "a")
        _create_label(sandbox, "b")
        status, headers, _ = _create_label(sandbox, "c")
        assert status == 403 and "retry-after" not in headers


def test_graphql_mutations_count_towards_secondary_limits(seed_dir: Path, clock: FakeClock) -> None:
    mutation = 'mutation { addComment(input: {subjectId: "x", body: "b"}) { clientMutationId } }'
    with running_sandbox(seed_dir, clock=clock, secondary_per_minute=1) as sandbox:
        graphql(sandbox, "{ viewer { login } }")
        graphql(sandbox, "{ viewer { login } }")
        graphql(sandbox, mutation)  # counted even though it fails
        status, _, _ = call(sandbox, "POST", "/graphql", body={"query": mutation})
        assert status == 403


def test_graphql_budget(seed_dir: Path, clock: FakeClock) -> None:
    with running_sandbox(seed_dir, clock=clock, graphql_limit=2) as sandbox:
        graphql(sandbox, "{ viewer { login } }")
        second = graphql(sandbox, "{ rateLimit { remaining used } }")
        assert second["data"]["rateLimit"] == {"remaining": 0, "used": 2}
        refused = graphql(sandbox, "{ viewer { login } }")
        assert refused["errors"][0]["type"] == "RATE_LIMITED"


def test_reset_limits(seed_dir: Path, clock: FakeClock) -> None:
    with running_sandbox(seed_dir, clock=clock, core_limit=1) as sandbox:
        call(sandbox, "GET", "/repos/acme/lib")
        assert call(sandbox, "GET", "/repos/acme/lib")[0] == 403
        assert call(sandbox, "POST", "/_sandbox/reset-limits", token=None)[0] == 204
        assert call(sandbox, "GET", "/repos/acme/lib")[0] == 200


def test_concurrency_cap_refuses_with_the_secondary_message(seed_dir: Path, clock: FakeClock) -> None:
    with running_sandbox(seed_dir, clock=clock, concurrency=1) as sandbox:
        hold = Request.build("GET", "/repos/acme/lib", {"Authorization": f"token {ADMIN}"}, b"")
        # Occupy the only slot the way a slow in-flight request would.
        assert sandbox.app._slots.acquire(blocking=False)
        try:
            response = sandbox.app.handle(hold)
        finally:
            sandbox.app._slots.release()
        assert response.status == 403
        assert "secondary rate limit" in response.body["message"]


def test_fault_replaces_the_response_then_runs_out(sandbox: Sandbox) -> None:
    status, _, _ = call(sandbox, "POST", "/_sandbox/faults", token=None, body={
        "match": {"method": "GET", "path_regex": "^/repos/acme/lib$"},
        "response": {"status": 502, "headers": {"X-Fault": "yes"}, "body": {"message": "Server Error"}},
        "times": 1,
    })
    assert status == 201
    status, headers, body = call(sandbox, "GET", "/repos/acme/lib")
    assert (status, headers["x-fault"], body) == (502, "yes", {"message": "Server Error"})
    assert call(sandbox, "GET", "/repos/acme/lib")[0] == 200


def test_after_apply_fault_is_a_lost_response(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"method": "POST", "path_regex": "/labels$", "body_regex": "lost"},
                       "response": {"status": 500, "body": {"message": "boom"}}, "after_apply": True})
    assert _create_label(sandbox, "lost")[0] == 500
    status, _, body = _create_label(sandbox, "lost")
    assert status == 422  # the first attempt really happened
    assert body["errors"][0]["code"] == "already_exists"


def test_faults_match_in_order_of_registration(sandbox: Sandbox) -> None:
    sandbox.add_fault({"match": {"path_regex": "/repos/"}, "response": {"status": 500}, "times": 1})
    sandbox.add_fault({"match": {"path_regex": "/repos/"}, "response": {"status": 503}, "times": 1})
    assert [call(sandbox, "GET", "/repos/acme/lib")[0] for _ in range(3)] == [500, 503, 200]


def test_request_log_and_stats(sandbox: Sandbox) -> None:
    call(sandbox, "GET", "/repos/acme/lib")
    graphql(sandbox, "query Who { viewer { login } }", operation="Who")
    call(sandbox, "GET", "/repos/acme/nope")
    status, _, log = call(sandbox, "GET", "/_sandbox/requests", token=None)
    assert status == 200
    assert [(e["method"], e["path"], e["status"], e["operation"]) for e in log] == [
        ("GET", "/repos/acme/lib", 200, None),
        ("POST", "/graphql", 200, "Who"),
        ("GET", "/repos/acme/nope", 404, None),
    ]
    _, _, stats = call(sandbox, "GET", "/_sandbox/stats", token=None)
    assert stats["requests"] == 3 and stats["by_status"] == {"200": 2, "404": 1}
    assert stats["graphql_points"] == 1 and stats["graphql_queries"] == 1
    assert call(sandbox, "DELETE", "/_sandbox/requests", token=None)[0] == 204
    assert call(sandbox, "GET", "/_sandbox/requests", token=None)[2] == []


@pytest.mark.parametrize("fault", [{"match": {"path_regex": "("}}, {"times": "many"}])
def test_malformed_fault_is_422(sandbox: Sandbox, fault: dict[str, object]) -> None:
    assert call(sandbox, "POST", "/_sandbox/faults", token=None, body=fault)[0] == 422
