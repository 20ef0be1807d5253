"""The HTTP front: auth, limits, faults and logging around the REST, GraphQL and GitHub App handlers.

REST is served at the root and, as GitHub Enterprise Server serves it, under `/api/v3`; URLs in answers
carry the prefix the client used. GraphQL is at `/graphql` and `/api/graphql` (not under `/api/v3`).
Requests with an App's JWT go to `apps`; installation tokens are checked (expiry, revocation) by the store.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from migrator.sandbox import apps, graphql, merging, ops, pushes, rest
from migrator.sandbox.actions.engine import Engine
from migrator.sandbox.faults import Fault, Faults, LoggedRequest, Recorder
from migrator.sandbox.http import ApiError, Request, Response
from migrator.sandbox.limits import PRIMARY_DOCS, SECONDARY_DOCS, SECONDARY_MESSAGE, Limits
from migrator.sandbox.settings import Settings
from migrator.sandbox.store import HEADS, PUSH_GUARD, Power, Store

SOMEONE_ELSE = "someone-else"  # whom the control API's commits are credited to

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CONTROL_PREFIX = "/_sandbox/"
GRAPHQL_PATHS = frozenset({"/graphql", "/api/graphql"})
GRAPHQL_AUTH_DOCS = "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"


class App:
    """Everything but the socket: `handle(request) -> response` is the whole server."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.limits = Limits(settings, store.clock)
        self.faults = Faults()
        self.recorder = Recorder()
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._request_ids = itertools.count(1)
        self.actions = Engine(store, delay=settings.actions_delay, enabled=settings.actions)
        # Called with every API request before it is served (tests move a fake clock with it).
        self.before_request: Callable[[Request], None] | None = None

    def handle(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        request = request.without_prefix()
        if self.before_request is not None:
            self.before_request(request)
        if self.settings.latency_ms:
            time.sleep(self.settings.latency_ms / 1000)
        request_id = f"SANDBOX:{next(self._request_ids):08X}"
        if not self._slots.acquire(blocking=False):
            response = self._secondary_limited(request_id, retry_after=None)
            self._log(request, response, None, None)
            return response
        try:
            return self._handle_api(request, request_id)
        finally:
            self._slots.release()

    # ------------------------------------------------------------ API requests

    @staticmethod
    def _graphql_path(request: Request) -> bool:
        """GraphQL lives at /graphql and /api/graphql; /api/v3/graphql is REST's 404, as on GHES."""
        return not request.prefix and request.path in GRAPHQL_PATHS

    def _handle_api(self, request: Request, request_id: str) -> Response:
        graphql_path = self._graphql_path(request)
        if not graphql_path and apps.is_app_path(request):
            return self._handle_app(request, request_id)
        is_graphql = graphql_path and request.method == "POST"
        payload = self._graphql_payload(request) if is_graphql else None
        operation = payload.get("operationName") if isinstance(payload, dict) else None
        if apps.looks_like_jwt(request.token) and request.token not in self.store.tokens:
            response = self._jwt_elsewhere(request)
            self._log(request, response, operation, None)
            return response
        power = self.store.power_of(request.token)
        if power is None:
            response = self._unauthorised(request, is_graphql)
            self._log(request, response, operation, None)
            return response
        creating = graphql.is_mutation_request(payload) if is_graphql else request.method in WRITE_METHODS
        refusal = self._limited(request, request_id, is_graphql=is_graphql, creating=creating)
        fault: Fault | None = None
        outcome: graphql.GraphQLOutcome | None = None
        if refusal is not None:
            response = refusal
        else:
            fault = self.faults.take(
                request.method, self._path_with_query(request), request.body.decode("utf-8", errors="replace")
            )
            if fault is not None and not fault.after_apply:
                response = self._fault_response(fault)
            else:
                response, outcome = self._serve(request, power, payload if is_graphql else None)
                if fault is not None:
                    response = self._fault_response(fault)
        if fault is not None:
            self.recorder.count("faults_fired")
        if outcome is not None:
            operation = outcome.operation_name
            self.recorder.count("graphql_mutations" if outcome.is_mutation else "graphql_queries")
            self.recorder.spend_points(outcome.points)
        self._decorate(response, request, request_id, power, resource="graphql" if is_graphql else "core")
        self._log(request, response, operation, fault)
        return response

    @staticmethod
    def _graphql_payload(request: Request) -> Any:
        try:
            return request.json()
        except ApiError:
            return None

    def _limit_key(self, token: str) -> str:
        """Whose budget a request spends: the token's, or its installation's (re-minting resets nothing)."""
        minted = self.store.installation_tokens.get(token)
        return f"installation:{minted.installation_id}" if minted is not None else token

    def _serve(
        self, request: Request, power: Power, payload: Any
    ) -> tuple[Response, graphql.GraphQLOutcome | None]:
        with self.store.lock:
            self.actions.tick()
            actor = ops.ACTOR_IS_APP.set(self.store.is_installation_token(request.token))
            requester = merging.REQUESTER.set(
                (self.store.login_of(request.token), self.store.actor_of(request.token, power))
            )
            try:
                with pushes.recording(self.store, self.actions, self.store.login_of(request.token)):
                    guard = PUSH_GUARD.set(ops.ruleset_guard(self.store, self.store.actor_of(request.token, power)))
                    try:
                        return self._serve_locked(request, power, payload)
                    finally:
                        PUSH_GUARD.reset(guard)
            finally:
                merging.REQUESTER.reset(requester)
                ops.ACTOR_IS_APP.reset(actor)

    def _serve_locked(
        self, request: Request, power: Power, payload: Any
    ) -> tuple[Response, graphql.GraphQLOutcome | None]:
        if payload is not None or self._graphql_path(request):
            return self._serve_graphql(request, power, payload)
        ctx = rest.Ctx(
            self.store, self.settings, self.limits, request, request.token, power, self._limit_key(request.token)
        )
        try:
            return rest.dispatch(ctx), None
        except ApiError as error:
            return error.response(), None

    def _serve_graphql(
        self, request: Request, power: Power, payload: Any
    ) -> tuple[Response, graphql.GraphQLOutcome]:
        key = self._limit_key(request.token)
        # GqlContext's token only selects the rate-limit budget
        ctx = graphql.GqlContext(self.store, self.settings, self.limits, request.base_url, key, power)

        def charge(points: int) -> bool:
            if self.limits.budget(key, "graphql").remaining < points:
                self.recorder.count("primary_limited")
                return False
            self.limits.spend(key, "graphql", points)
            return True

        outcome = graphql.run(ctx, payload, charge=charge)
        return Response(200, outcome.body), outcome

    def _limited(self, request: Request, request_id: str, *, is_graphql: bool, creating: bool) -> Response | None:
        """A refusal when a primary or secondary limit applies; also spends the REST budget."""
        token = self._limit_key(request.token)
        if not is_graphql and request.path != "/rate_limit":
            budget = self.limits.budget(token, "core")
            if budget.remaining <= 0:
                self.recorder.count("primary_limited")
                message = (
                    f"API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
                    f"please include the request ID {request_id}."
                )
                return ApiError(403, message, documentation_url=PRIMARY_DOCS).response()
            self.limits.spend(token, "core", 1)
        if creating:
            wait = self.limits.take_write(token)
            if wait is not None:
                return self._secondary_limited(request_id, retry_after=wait)
        return None

    def _secondary_limited(self, request_id: str, *, retry_after: float | None) -> Response:
        self.recorder.count("secondary_limited")
        headers = {}
        if retry_after is not None and self.settings.secondary_retry_after:
            headers["Retry-After"] = str(max(int(retry_after + 0.999), 1))
        return ApiError(
            403, SECONDARY_MESSAGE.format(request_id=request_id), documentation_url=SECONDARY_DOCS, headers=headers
        ).response()

    def _handle_app(self, request: Request, request_id: str) -> Response:
        """The App endpoints, authenticated by the App's JWT. Faults apply; rate limits do not."""
        fault = self.faults.take(
            request.method, self._path_with_query(request), request.body.decode("utf-8", errors="replace")
        )
        if fault is not None and not fault.after_apply:
            response = self._fault_response(fault)
        else:
            with self.store.lock:
                try:
                    route = apps.jwt_route(request)
                    if route is None:  # an App path with a method it does not have
                        apps.authenticate(self.store, request.token)
                        raise ApiError(404, "Not Found", documentation_url=apps.APPS_DOCS)
                    response = apps.serve(self.store, self.settings, request, route)
                except ApiError as error:
                    response = error.response()
            if fault is not None:
                response = self._fault_response(fault)
        if fault is not None:
            self.recorder.count("faults_fired")
        for name, value in (
            ("X-GitHub-Media-Type", "github.v3; format=json"),
            ("X-GitHub-Api-Version-Selected", "2022-11-28"),
            ("X-GitHub-Request-Id", request_id),
        ):
            response.headers.setdefault(name, value)
        self._log(request, response, None, fault)
        return response

    def _jwt_elsewhere(self, request: Request) -> Response:
        """An App's JWT opens only the App endpoints; elsewhere it needs an installation token."""
        with self.store.lock:
            try:
                apps.authenticate(self.store, request.token)
            except ApiError as error:
                return error.response()
        return ApiError(403, apps.NOT_FOR_INTEGRATIONS).response()

    def _unauthorised(self, request: Request, is_graphql: bool) -> Response:
        if is_graphql and not request.token:
            return ApiError(
                401, "This endpoint requires you to be authenticated.", documentation_url=GRAPHQL_AUTH_DOCS
            ).response()
        message = "Bad credentials" if request.token else "Requires authentication"
        return ApiError(401, message).response()

    @staticmethod
    def _fault_response(fault: Fault) -> Response:
        body = fault.body.encode() if isinstance(fault.body, str) else fault.body
        return Response(fault.status, body, dict(fault.headers))

    def _decorate(self, response: Response, request: Request, request_id: str, power: Power, *, resource: str) -> None:
        headers: dict[str, str] = {}
        if not self.store.is_installation_token(request.token):  # installation tokens have no OAuth scopes
            headers.update({"X-OAuth-Scopes": power.scopes, "X-Accepted-OAuth-Scopes": "repo"})
        headers.update(
            {
                "X-GitHub-Media-Type": "github.v3; format=json",
                "X-GitHub-Api-Version-Selected": "2022-11-28",
                "X-GitHub-Request-Id": request_id,
            }
        )
        headers.update(self.limits.budget(self._limit_key(request.token), resource).headers())
        for name, value in headers.items():
            response.headers.setdefault(name, value)

    @staticmethod
    def _path_with_query(request: Request) -> str:
        """The path as the client sent it (with /api/v3 if it used that): what faults match and the log shows."""
        if not request.query:
            return request.full_path
        from urllib.parse import urlencode

        return f"{request.full_path}?{urlencode(request.query)}"

    def _log(self, request: Request, response: Response, operation: str | None, fault: Fault | None) -> None:
        self.recorder.record(
            LoggedRequest(
                request.method, self._path_with_query(request), response.status, operation, fault.id if fault else None
            )
        )

    # ------------------------------------------------------------ control API

    def _control(self, request: Request) -> Response:
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "health"): lambda r: Response(200, {"ok": True}),
            ("GET", "faults"): lambda r: Response(200, self.faults.describe()),
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): lambda r: self._clear(self.faults.clear),
            ("GET", "requests"): lambda r: Response(200, [e.as_json() for e in self.recorder.requests()]),
            ("DELETE", "requests"): lambda r: self._clear(self.recorder.clear),
            ("GET", "stats"): lambda r: Response(200, self.recorder.stats()),
            ("POST", "reset-limits"): lambda r: self._clear(self.limits.reset),
            ("GET", "registry"): self._registry,
            ("GET", "actions"): self._actions_state,
        }
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        handler = routes.get((request.method, name))
        try:
            if handler is not None:
                return handler(request)
            match = re.fullmatch(r"repos/([^/]+)/([^/]+)/commit", name)
            if match and request.method == "POST":
                return self._push(match[1], match[2], request)
            raise ApiError(404, "Not Found")
        except ApiError as error:
            return error.response()

    @staticmethod
    def _clear(action: Callable[[], None]) -> Response:
        action()
        return Response(204)

    def _registry(self, request: Request) -> Response:
        """Every image push the Actions model recorded, and by image reference the runs that pushed it."""
        with self.store.lock:
            self.actions.tick()
            pushed = [p.as_json() for p in self.store.registry]
        runs: dict[str, list[object]] = {}
        for item in pushed:
            runs.setdefault(str(item["reference"]), []).append(item["run_id"])
        return Response(200, {"pushes": pushed, "by_reference": runs})

    def _actions_state(self, request: Request) -> Response:
        with self.store.lock:
            self.actions.tick()
            return Response(200, {"errors": list(self.actions.errors), "truncated_events": self.actions.truncated,
                                  "pending_runs": len(self.actions._pending)})

    def _add_fault(self, request: Request) -> Response:
        try:
            fault = self.faults.add(request.json_object())
        except (ValueError, TypeError, KeyError, re.error) as error:
            raise ApiError(422, f"Invalid fault: {error}") from error
        return Response(201, fault.describe())

    def _push(self, owner: str, name: str, request: Request) -> Response:
        """Someone else pushes to a branch: the optimistic-concurrency case."""
        body = request.json_object()
        files = body.get("files")
        if not isinstance(files, dict):
            raise ApiError(422, "files must map paths to text (or null to delete)")
        with self.store.lock, pushes.recording(self.store, self.actions, SOMEONE_ELSE):
            self.actions.tick()
            repo = self.store.repo(owner, name)
            if repo is None:
                raise ApiError(404, "Not Found")
            branch = str(body.get("branch") or repo.default_branch)
            parent = repo.branch_sha(branch)
            if parent is None and not repo.is_empty:
                raise ApiError(404, f"Branch {branch} not found")
            changes = {str(p): None if c is None else str(c).encode() for p, c in files.items()}
            commit = self.store.commit_changes(
                repo, parent=parent, changes=changes, message=str(body.get("message") or "Update from elsewhere")
            )
            repo.refs[HEADS + branch] = commit.sha
            repo.pushed_at = self.store.clock()
        return Response(201, {"sha": commit.sha, "branch": branch})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.build(self.command, self.path, dict(self.headers.items()), body)
        try:
            response = self.server.app.handle(request)
        except Exception as error:  # a bug in the sandbox must not kill the connection silently
            response = ApiError(500, f"Sandbox error: {type(error).__name__}: {error}").response()
        payload = response.encoded()
        self.send_response(response.status)
        if payload and not any(k.lower() == "content-type" for k in response.headers):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """The request log lives at /_sandbox/requests; stay quiet on stderr."""


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: App, host: str, port: int) -> None:
        self.app = app
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else host
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}"
