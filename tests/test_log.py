"""Tokens never reach logs: neither under a suspicious key nor inside a message."""

from __future__ import annotations

import io
import json

from migrator import log

CLASSIC = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
INSTALLATION = "ghs_" + "x" * 60


def _logged(**event: object) -> dict[str, object]:
    stream = io.StringIO()
    log.configure(json=True, stream=stream)
    log.get_logger(repo="acme/app", step="read").info("event", **event)
    record: dict[str, object] = json.loads(stream.getvalue())
    return record


def test_token_values_are_redacted_wherever_they_appear() -> None:
    record = _logged(token=CLASSIC, url=f"https://x-access-token:{INSTALLATION}@github.com", header=f"token {CLASSIC}")
    text = json.dumps(record)
    assert CLASSIC not in text and INSTALLATION not in text
    assert record["repo"] == "acme/app" and record["step"] == "read"


def test_registered_secrets_of_any_shape_are_redacted() -> None:
    log.register_secret("plain-sandbox-token")
    assert "plain-sandbox-token" not in json.dumps(_logged(detail="auth with plain-sandbox-token failed"))
    assert log.redact(f"Bearer {CLASSIC}") == "Bearer ***"


def test_token_shapes_are_redacted_whatever_their_length_even_unregistered() -> None:
    """The backstop for a token nobody registered: GitHub promises no token length."""
    short, long = "ghs_" + "Ab3", "ghs_" + "Zz9_" * 40
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MiJ9.c2lnbmF0dXJl_-x"
    text = (f"minted {short}; then {long}, url https://x-access-token:{long}@example.invalid/acme/app.git, "
            f"pats ghp_X1 github_pat_11ABC_def gho_q, jwt {jwt}.")
    redacted = log.redact(text)
    for secret in (short, long, "ghp_X1", "github_pat_11ABC_def", "gho_q", jwt):
        assert secret not in redacted
    assert redacted == ("minted ***; then ***, url https://x-access-token:***@example.invalid/acme/app.git, "
                        "pats *** *** ***, jwt ***.")
    record = _logged(detail=f"token was {short}")
    assert short not in json.dumps(record)
    assert log.redact("GH_TOKEN and GITHUB_TOKEN, ghs_ alone") == "GH_TOKEN and GITHUB_TOKEN, ghs_ alone"
