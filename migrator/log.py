"""structlog, configured once per process.

A human console renderer on a TTY, JSON lines otherwise (or with `--log-json`). On a TTY the
per-repository info lines stay off unless `-v`: the progress line says where the run is.
Logs go to stderr; results go to stdout. Anything that looks like a token is
redacted before rendering, whatever key it sits under.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

# Classic PATs, fine-grained PATs, OAuth, App installation/user/refresh tokens (of any length: GitHub
# promises none), old-style installation tokens, App JWTs, and whatever follows "token"/"Bearer" in an
# Authorization header. A backstop: every credential migrator knows is also registered by value.
TOKEN_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9_]+|github_pat_[A-Za-z0-9_]+|v1\.[0-9a-f]{40}\b)"
    r"|\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"
    r"|(?<=token )[A-Za-z0-9_.\-]{16,}|(?<=Bearer )[A-Za-z0-9_.\-]{16,}"
)
REDACTED = "***"
_SECRET_KEYS = frozenset({"token", "authorization", "password", "private_key", "jwt"})

_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a credential so that it is redacted wherever it appears later."""
    if len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return TOKEN_PATTERN.sub(REDACTED, text)


def _redact_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = redact(value)
        elif value is not None and not isinstance(value, int | float | bool):
            event_dict[key] = redact(str(value))
    return event_dict


def _drop_per_repo_info(_logger: Any, name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """On a terminal, one info line per repository buries the progress line: those wait for `-v`."""
    if name == "info" and "repo" in event_dict:
        raise structlog.DropEvent
    return event_dict


class _Stderr:
    """Whatever sys.stderr is when a line is written (tests swap it; a bound stream may be closed by then)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(
    *, json: bool | None = None, verbose: bool = False, quiet: bool = False, stream: TextIO | None = None
) -> None:
    """Configure structlog for this process. `json=None` picks by whether stderr is a TTY."""
    out: Any = stream or _Stderr()
    use_json = (not out.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    quiet_repos: list[Any] = [] if use_json or verbose else [_drop_per_repo_info]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *quiet_repos,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger("migrator").bind(**bound)
