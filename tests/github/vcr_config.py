"""One vcrpy configuration for recording and replaying the adapter's cassettes (under cassettes/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import vcr

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
# Recordings from the sandbox are rewritten to this address, so replays do not depend on the port it had.
REPLAY_URL = "http://127.0.0.1:9"
MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")


def _rewriter(port: int | None) -> tuple[Callable[[Any], Any], Callable[[dict[str, Any]], dict[str, Any]]]:
    if port is None:
        return (lambda request: request), (lambda response: response)
    here, there = f"127.0.0.1:{port}", REPLAY_URL.split("//", 1)[1]

    def request(recorded: Any) -> Any:
        recorded.uri = recorded.uri.replace(here, there)
        return recorded

    def response(recorded: dict[str, Any]) -> dict[str, Any]:
        body = recorded["body"].get("string")
        if isinstance(body, bytes):
            recorded["body"]["string"] = body.replace(here.encode(), there.encode())
        headers = {name: [value.replace(here, there) for value in values]
                   for name, values in recorded["headers"].items()}
        for name in headers:
            if name.lower() == "content-length" and isinstance(recorded["body"].get("string"), bytes):
                headers[name] = [str(len(recorded["body"]["string"]))]
        recorded["headers"] = headers
        return recorded

    return request, response


def cassette_vcr(*, record: bool = False, sandbox_port: int | None = None) -> vcr.VCR:
    """`record=False` replays only: a request without a recording fails, and nothing reaches the network."""
    before_request, before_response = _rewriter(sandbox_port)
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if record else "none",
        match_on=MATCH_ON,
        filter_headers=["authorization"],
        decode_compressed_response=True,
        before_record_request=before_request,
        before_record_response=before_response,
    )
