"""Run a sandbox inside a test: `with running_sandbox(seed_dir) as sandbox: ... sandbox.url ...`.

Other test packages import this; `write_seed` builds a seed folder from plain dicts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.sandbox.actions.model import ImagePush
from migrator.sandbox.faults import LoggedRequest
from migrator.sandbox.http import Request
from migrator.sandbox.seed import META_SUFFIX, load_seed
from migrator.sandbox.server import App, SandboxHTTPServer
from migrator.sandbox.settings import Settings
from migrator.sandbox.store import Store


@dataclass
class Sandbox:
    url: str
    store: Store
    app: App
    _server: SandboxHTTPServer
    _thread: threading.Thread

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ghes_url(self) -> str:
        """REST the GitHub Enterprise Server way (GraphQL is then at /api/graphql)."""
        return f"{self.url}/api/v3"

    def minted_tokens(self) -> list[str]:
        """Every installation token minted so far, in order: what must never show up in output."""
        with self.store.lock:
            return list(self.store.minted_tokens)

    def on_request(self, hook: Callable[[Request], None] | None) -> None:
        """Call `hook` with every API request before it is served (e.g. to move a FakeClock)."""
        self.app.before_request = hook

    def add_fault(self, fault: dict[str, Any]) -> int:
        return self.app.faults.add(fault).id

    def requests(self) -> list[LoggedRequest]:
        return self.app.recorder.requests()

    def clear_requests(self) -> None:
        self.app.recorder.clear()

    def stats(self) -> dict[str, Any]:
        return self.app.recorder.stats()

    def registry(self) -> list[ImagePush]:
        """Every image push the Actions model recorded, in order."""
        with self.store.lock:
            self.app.actions.tick()
            return list(self.store.registry)

    def actions_errors(self) -> list[str]:
        """Gaps the Actions model hit (a model bug never becomes an API error; tests assert this is empty)."""
        with self.store.lock:
            return list(self.app.actions.errors)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_sandbox(
    seed_dir: Path, *, settings: Settings | None = None, clock: Callable[[], float] = time.time
) -> Sandbox:
    """Load `seed_dir` and serve it on a free loopback port in a background thread."""
    chosen = settings or Settings()
    store = load_seed(seed_dir, Store(clock=clock))
    app = App(store, chosen)
    server = SandboxHTTPServer(app, chosen.host, chosen.port)
    # a short poll interval makes close() (server.shutdown) quick, which keeps test suites fast
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="migrator-sandbox", daemon=True
    )
    thread.start()
    return Sandbox(server.url, store, app, server, thread)


@contextmanager
def running_sandbox(seed_dir: Path, *, clock: Callable[[], float] = time.time, **settings: Any) -> Iterator[Sandbox]:
    sandbox = start_sandbox(seed_dir, settings=Settings(**settings), clock=clock)
    try:
        yield sandbox
    finally:
        sandbox.close()


@dataclass
class FakeClock:
    """A clock tests move by hand, so rate-limit windows never depend on real time."""

    now: float = 1_750_000_000.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@dataclass(frozen=True)
class AppKey:
    """An RSA key pair for a test GitHub App: the private half signs JWTs, the public half goes in the seed."""

    private_pem: str
    public_pem: str

    @classmethod
    def generate(cls) -> AppKey:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(private.decode(), public.decode())

    def app_entry(self, app_id: int, installation_id: int, permissions: Mapping[str, str]) -> dict[str, Any]:
        """One item of an org meta file's "apps"."""
        return {
            "id": app_id,
            "public_key": self.public_pem,
            "installation_id": installation_id,
            "permissions": dict(permissions),
        }


def write_seed(
    seed_dir: Path,
    repos: Mapping[str, Mapping[str, Mapping[str, str | bytes]]],
    *,
    repo_meta: Mapping[str, Mapping[str, Any]] | None = None,
    org_meta: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """`repos` maps org -> repo -> path -> content; meta keys are "org/repo" and "org"."""
    for org, org_repos in repos.items():
        for repo, files in org_repos.items():
            repo_dir = seed_dir / org / repo
            repo_dir.mkdir(parents=True, exist_ok=True)
            for path, content in files.items():
                target = repo_dir / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content if isinstance(content, bytes) else content.encode())
    for full_name, meta in (repo_meta or {}).items():
        org, repo = full_name.split("/", 1)
        (seed_dir / org).mkdir(parents=True, exist_ok=True)
        (seed_dir / org / (repo + META_SUFFIX)).write_text(json.dumps(meta), encoding="utf-8")
    for org, meta in (org_meta or {}).items():
        (seed_dir / org).mkdir(parents=True, exist_ok=True)
        (seed_dir / (org + META_SUFFIX)).write_text(json.dumps(meta), encoding="utf-8")
    return seed_dir
