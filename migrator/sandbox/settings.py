"""How a sandbox behaves: limits, page sizes and added latency."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 0
    # Primary limits: requests (REST) and points (GraphQL) per token per hour.
    core_limit: int = 5000
    graphql_limit: int = 5000
    # Secondary limits on content-creating requests, per token.
    secondary_per_minute: int = 80
    secondary_per_hour: int = 500
    secondary_retry_after: bool = True
    # Requests served at once; more are refused like GitHub's concurrency limit.
    concurrency: int = 100
    latency_ms: int = 0
    default_per_page: int = 30
    max_per_page: int = 100
    blob_truncate_bytes: int = 512_000
    # GitHub App installation tokens: seconds from minting until they answer 401 Bad credentials.
    installation_token_ttl: int = 3600
    # The Actions model: whether pushes and releases start workflow runs, and how long a run takes (simulated
    # seconds on the store's clock; 0 finishes every run before the write that started it is answered).
    actions: bool = True
    actions_delay: float = 0.0
