"""`migrator sandbox --seed DIR`: serve a local GitHub until stopped.

The first line on stdout is the base URL; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from migrator import log
from migrator.errors import UsageError
from migrator.sandbox.settings import Settings

_DEFAULTS = Settings()


EXAMPLES = """\
  $ python -m migrator.sandbox.generate --repos 200 --out /tmp/seed
  $ migrator sandbox --seed /tmp/seed --port 8080
  $ migrator sandbox --seed /tmp/seed --latency-ms 50 --secondary-per-minute 20
"""


# (flag, Settings field, help): integer limits, each shown with its default
_LIMITS = (
    ("--core-limit", "core_limit", "REST requests per token per hour"),
    ("--graphql-limit", "graphql_limit", "GraphQL points per token per hour"),
    ("--secondary-per-minute", "secondary_per_minute", "content-creating requests per minute before 403"),
    ("--secondary-per-hour", "secondary_per_hour", "content-creating requests per hour before 403"),
    ("--concurrency", "concurrency", "requests served at once; more are refused"),
    ("--latency-ms", "latency_ms", "added latency per request"),
    ("--per-page", "default_per_page", "default REST page size"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", required=True, type=Path, help="seed folder: DIR/<org>/<repo>/...")
    parser.add_argument(
        "--host", default=_DEFAULTS.host, help=f"address to bind (default: {_DEFAULTS.host}, loopback only)"
    )
    parser.add_argument(
        "--port", type=int, default=_DEFAULTS.port, help=f"port to bind; 0 picks a free one (default: {_DEFAULTS.port})"
    )
    limits = parser.add_argument_group("limits")
    for flag, field, what in _LIMITS:
        default = getattr(_DEFAULTS, field)
        limits.add_argument(
            flag, type=int, default=default, dest=field, metavar="N", help=f"{what} (default: {default})"
        )
    limits.add_argument(
        "--no-retry-after", action="store_true", help="answer secondary-limit 403s without a Retry-After header"
    )
    actions = parser.add_argument_group("actions model")
    actions.add_argument("--no-actions", action="store_true", help="pushes and releases start no workflow runs")
    actions.add_argument(
        "--actions-delay",
        type=float,
        default=_DEFAULTS.actions_delay,
        metavar="SECONDS",
        help="simulated duration of a workflow run (default: 0, runs finish before the write that started them)",
    )
    parser.add_argument(
        "--installation-token-ttl",
        type=int,
        default=_DEFAULTS.installation_token_ttl,
        metavar="SECONDS",
        help=f"lifetime of GitHub App installation tokens (default: {_DEFAULTS.installation_token_ttl}, as GitHub)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    for name in ("core_limit", "graphql_limit", "secondary_per_minute", "secondary_per_hour", "concurrency"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.latency_ms < 0 or not 1 <= args.default_per_page <= 100:
        raise UsageError("--latency-ms must be >= 0 and --per-page between 1 and 100")
    if args.installation_token_ttl < 1:
        raise UsageError("--installation-token-ttl must be at least 1 second")
    if getattr(args, "actions_delay", 0.0) < 0:
        raise UsageError("--actions-delay must be >= 0")
    return Settings(
        host=args.host,
        port=args.port,
        core_limit=args.core_limit,
        graphql_limit=args.graphql_limit,
        secondary_per_minute=args.secondary_per_minute,
        secondary_per_hour=args.secondary_per_hour,
        secondary_retry_after=not args.no_retry_after,
        concurrency=args.concurrency,
        latency_ms=args.latency_ms,
        default_per_page=args.default_per_page,
        installation_token_ttl=args.installation_token_ttl,
        actions=not getattr(args, "no_actions", False),
        actions_delay=float(getattr(args, "actions_delay", 0.0)),
    )


def run(args: argparse.Namespace) -> int:
    # Imported here: graphql-core and the server are heavy, and every `migrator` command builds this parser.
    from migrator.sandbox import graphql
    from migrator.sandbox.seed import load_seed
    from migrator.sandbox.server import App, SandboxHTTPServer
    from migrator.sandbox.store import Store

    settings = settings_from(args)
    logger = log.get_logger(command="sandbox")
    # GitHub's schema takes about a second to build; do it while the seed loads and the first request arrives.
    threading.Thread(target=graphql.schema, name="schema-warmup", daemon=True).start()
    started = time.monotonic()
    store = load_seed(args.seed, Store())
    try:
        server = SandboxHTTPServer(App(store, settings), settings.host, settings.port)
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"cannot bind {settings.host}:{settings.port}: {reason}; pick another --port") from error
    print(server.url, flush=True)
    repos = sum(len(org.repos) for org in store.orgs.values())
    logger.info(
        "sandbox.ready", url=server.url, orgs=len(store.orgs), repos=repos, seconds=round(time.monotonic() - started, 3)
    )
    _stop_on_signals()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("sandbox.stopped")
    finally:
        server.server_close()
    sys.stdout.flush()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM stop the server, even when started with SIGINT ignored (a shell's `&`)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
