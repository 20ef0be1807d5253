"""`POST /graphql`, executed by graphql-core against GitHub's own (vendored) schema.

Resolvers are small classes whose method names are the GraphQL field names, so
graphql-core's default resolver finds them; `typename` tells abstract types apart.
Errors are answered the GitHub way: HTTP 200 with `errors[{type, path, locations, message}]`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeAlias

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    build_schema,
    execute,
    parse,
    validate,
)

from migrator.sandbox import ops
from migrator.sandbox.git import TREE_MODE
from migrator.sandbox.limits import Limits
from migrator.sandbox.ops import OpError
from migrator.sandbox.settings import Settings
from migrator.sandbox.shapes import iso
from migrator.sandbox.store import (
    HEADS,
    SANDBOX_USER,
    CheckRun,
    Comment,
    Org,
    Power,
    Protection,
    PullRequest,
    Repo,
    Status,
    Store,
    node_id,
    parse_node_id,
)

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo

    Info: TypeAlias = GraphQLResolveInfo[Any]  # graphql-core passes it to every resolver method

Json = dict[str, Any]
MAX_PAGE = 100


@functools.cache
def schema() -> GraphQLSchema:
    """GitHub's schema, built once per process (it is large)."""
    text = resources.files("migrator").joinpath("_vendor/github_graphql/schema.graphql").read_text("utf-8")
    # GitHub's published SDL repeats two fields and deprecates some Node.id
    # implementations, which graphql-core's strict SDL and schema checks refuse;
    # GitHub itself serves it, so we skip those checks rather than edit the file.
    built = build_schema(text, assume_valid_sdl=True)
    built._validation_errors = []
    return built


class GitHubError(Exception):
    """An error GitHub reports with a `type`, such as NOT_FOUND or STALE_DATA."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# ---------------------------------------------------------------- validation


_FIELD_MISSING = re.compile(r"Cannot query field '([^']+)' on type '([^']+)'\.")
_UNKNOWN_ARG = re.compile(r"Unknown argument '([^']+)' on field '([^'.]+)\.([^']+)'\.")
_REQUIRED_ARG = re.compile(r"Field '([^']+)' argument '([^']+)' of type '[^']+' is required, but it was not provided\.")


def _github_validation_error(error: GraphQLError) -> Json:
    """graphql-core's validation messages, reworded as GitHub words them."""
    message = error.message
    extensions: Json = {}
    if match := _FIELD_MISSING.match(message):
        message = f"Field '{match[1]}' doesn't exist on type '{match[2]}'"
        extensions = {"code": "undefinedField", "typeName": match[2], "fieldName": match[1]}
    elif match := _UNKNOWN_ARG.match(message):
        message = f"Field '{match[3]}' doesn't accept argument '{match[1]}'"
        extensions = {"code": "argumentNotAccepted", "name": match[3], "typeName": "Field", "argumentName": match[1]}
    elif match := _REQUIRED_ARG.match(message):
        message = f"Field '{match[1]}' is missing required arguments: {match[2]}"
        extensions = {"code": "missingRequiredArguments", "className": "Field", "name": match[1], "arguments": match[2]}
    data: Json = {"message": message}
    if error.locations:
        data["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if extensions:
        data["extensions"] = extensions
    return data


def _parse(query: str) -> DocumentNode | list[Json]:
    try:
        return parse(query)
    except GraphQLError as error:
        return [_github_validation_error(error)]


def validate_document(query: str) -> list[str]:
    """Messages for everything GitHub would refuse in this document; empty when it is valid."""
    document = _parse(query)
    if isinstance(document, list):
        return [str(e["message"]) for e in document]
    return [str(_github_validation_error(e)["message"]) for e in validate(schema(), document)]


# ---------------------------------------------------------------- cost


@dataclass(frozen=True)
class Cost:
    requests: int
    nodes: int

    @property
    def points(self) -> int:
        return max(1, round(self.requests / 100))


def query_cost(document: DocumentNode, operation: OperationDefinitionNode, variables: Json) -> Cost:
    """GitHub's rule: one request per connection per parent, `first`/`last` multiplying nested ones."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    requests, nodes = _walk_cost(operation.selection_set, fragments, variables, 1)
    return Cost(requests, nodes)


def _walk_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: Json,
    multiplier: int,
) -> tuple[int, int]:
    requests = nodes = 0
    for selection in selection_set.selections if selection_set else ():
        child_multiplier, child_set = multiplier, None
        if isinstance(selection, FieldNode):
            limit = _page_size(selection, variables)
            if limit is not None:
                requests += multiplier
                nodes += multiplier * limit
                child_multiplier = multiplier * limit
            child_set = selection.selection_set
        elif isinstance(selection, InlineFragmentNode):
            child_set = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            child_set = fragments[selection.name.value].selection_set
        more_requests, more_nodes = _walk_cost(child_set, fragments, variables, child_multiplier)
        requests += more_requests
        nodes += more_nodes
    return requests, nodes


def _page_size(node: FieldNode, variables: Json) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), int):
            return int(variables[value.name.value])
    return None


# ---------------------------------------------------------------- context and connections


@dataclass
class GqlContext:
    store: Store
    settings: Settings
    limits: Limits
    base: str
    token: str
    power: Power
    cost: Cost = field(default_factory=lambda: Cost(0, 0))


def _encode_cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.b64decode(cursor.encode()).decode()
        return int(text.rsplit(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError, binascii.Error) as error:
        raise GitHubError("INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor.") from error


def connection(info: Info, items: Sequence[Any], args: Json) -> Json:
    """A Relay connection over `items`, with GitHub's checks on `first` and `last`."""
    first, last = args.get("first"), args.get("last")
    name = info.field_name
    if first is None and last is None:
        raise GitHubError(
            "MISSING_PAGINATION_BOUNDARIES",
            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
        )
    for label, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_PAGE:
            raise GitHubError(
                "EXCESSIVE_PAGINATION",
                f"Requesting {value} records on the `{name}` connection "
                f"exceeds the `{label}` limit of {MAX_PAGE} records.",
            )
        if value is not None and value < 0:
            raise GitHubError("INVALID_PAGINATION", f"`{label}` on the `{name}` connection cannot be less than zero.")
    after, before = _decode_cursor(args.get("after")), _decode_cursor(args.get("before"))
    start = after + 1 if after is not None else 0
    end = before if before is not None else len(items)
    window = list(range(start, min(end, len(items))))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    edges = [{"cursor": _encode_cursor(i), "node": items[i]} for i in window]
    return {
        "totalCount": len(items),
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": bool(window) and window[-1] < min(end, len(items)) - 1,
            "hasPreviousPage": bool(window) and window[0] > start if last is not None else start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# ---------------------------------------------------------------- object types


class UserNode:
    typename = "User"

    def __init__(self, ctx: GqlContext, login: str = SANDBOX_USER) -> None:
        self.ctx, self.login = ctx, login
        self.id = node_id("User", login)
        self.url = f"{ctx.base}/{login}"
        self.name = login
        self.email = ""

    def avatarUrl(self, info: Info, **args: Any) -> str:
        return f"{self.ctx.base}/avatars/{self.login}"


class OrgNode:
    typename = "Organization"

    def __init__(self, ctx: GqlContext, org: Org) -> None:
        self.ctx, self.org = ctx, org
        self.id = node_id("Organization", org.login)
        self.login = self.name = org.login
        self.databaseId = org.id
        self.url = f"{ctx.base}/{org.login}"

    def avatarUrl(self, info: Info, **args: Any) -> str:
        return f"{self.ctx.base}/avatars/{self.org.login}"

    def repositories(self, info: Info, **args: Any) -> Json:
        repos = [r for r in self.org.repos.values() if _repo_filter(r, args)]
        order = args.get("orderBy") or {}
        key: Callable[[Repo], Any] = {
            "NAME": lambda r: r.name.lower(),
            "PUSHED_AT": lambda r: (r.pushed_at, r.id),
            "UPDATED_AT": lambda r: (r.pushed_at, r.id),
        }.get(order.get("field", ""), lambda r: (r.created_at, r.id))
        repos.sort(key=key, reverse=order.get("direction") == "DESC")
        result = connection(info, repos, args)
        wrap = functools.partial(RepoNode, self.ctx)
        result["nodes"] = [wrap(r) for r in result["nodes"]]
        result["edges"] = [{"cursor": e["cursor"], "node": wrap(e["node"])} for e in result["edges"]]
        result["totalDiskUsage"] = 0
        return result

    def repository(self, info: Info, name: str, **args: Any) -> RepoNode | None:
        repo = self.ctx.store.repo(self.org.login, name)
        return RepoNode(self.ctx, repo) if repo else None


def _repo_filter(repo: Repo, args: Json) -> bool:
    checks = (
        args.get("isFork") is None or repo.meta.fork == args["isFork"],
        args.get("isArchived") is None or repo.meta.archived == args["isArchived"],
        args.get("privacy") is None or (repo.meta.visibility == "public") == (args["privacy"] == "PUBLIC"),
        args.get("visibility") is None or repo.meta.visibility.upper() == args["visibility"],
        not args.get("isLocked"),
    )
    return all(checks)


def _map_nodes(result: Json, wrap: Callable[[Any], Any]) -> Json:
    result["nodes"] = [wrap(n) for n in result["nodes"]]
    result["edges"] = [{"cursor": e["cursor"], "node": wrap(e["node"])} for e in result["edges"]]
    return result


class RepoNode:
    typename = "Repository"

    def __init__(self, ctx: GqlContext, repo: Repo) -> None:
        self.ctx, self.repo = ctx, repo
        repo.ensure_loaded()
        meta = repo.meta
        self.id = node_id("Repository", repo.full_name)
        self.databaseId = repo.id
        self.name = repo.name
        self.nameWithOwner = repo.full_name
        self.url = f"{ctx.base}/{repo.full_name}"
        self.description = meta.description
        self.isArchived, self.isFork, self.isEmpty = meta.archived, meta.fork, repo.is_empty
        self.isPrivate = meta.visibility != "public"
        self.visibility = meta.visibility.upper()
        self.isDisabled = self.isLocked = self.isTemplate = self.isMirror = False
        self.createdAt, self.pushedAt, self.updatedAt = iso(repo.created_at), iso(repo.pushed_at), iso(repo.pushed_at)
        self.viewerPermission = "ADMIN" if ctx.power.is_admin else "READ" if not ctx.power.can_write else "WRITE"
        self.stargazerCount = self.forkCount = 0

    def owner(self, info: Info) -> OrgNode:
        return OrgNode(self.ctx, self.ctx.store.orgs[self.repo.org])

    def defaultBranchRef(self, info: Info) -> RefNode | None:
        branch = self.repo.default_branch
        return RefNode(self.ctx, self.repo, HEADS + branch) if self.repo.branch_sha(branch) else None

    def ref(self, info: Info, qualifiedName: str) -> RefNode | None:
        for name in (qualifiedName, HEADS + qualifiedName, "refs/tags/" + qualifiedName):
            if name in self.repo.refs:
                return RefNode(self.ctx, self.repo, name)
        return None

    def refs(self, info: Info, refPrefix: str, **args: Any) -> Json:
        query = args.get("query") or ""
        names = sorted(n for n in self.repo.refs if n.startswith(refPrefix) and query in n[len(refPrefix) :])
        return _map_nodes(connection(info, names, args), lambda n: RefNode(self.ctx, self.repo, n))

    def object(self, info: Info, expression: str | None = None, oid: str | None = None) -> Any:
        if oid is not None:
            return git_object(self.ctx, self.repo, oid, "")
        return resolve_expression(self.ctx, self.repo, expression or "HEAD")

    def repositoryTopics(self, info: Info, **args: Any) -> Json:
        topics = [
            {
                "topic": {"name": t, "id": node_id("Topic", t)},
                "url": f"{self.ctx.base}/topics/{t}",
                "id": node_id("RepositoryTopic", f"{self.repo.full_name}:{t}"),
            }
            for t in self.repo.meta.topics
        ]
        return connection(info, topics, args)

    def branchProtectionRules(self, info: Info, **args: Any) -> Json:
        rules = sorted(self.repo.protections.items())
        return _map_nodes(
            connection(info, rules, args), lambda item: ProtectionNode(self.ctx, self.repo, item[0], item[1])
        )

    def pullRequests(self, info: Info, **args: Any) -> Json:
        return _pull_connection(self.ctx, self.repo, info, args)

    def pullRequest(self, info: Info, number: int) -> PullNode | None:
        pull = self.repo.pulls.get(number)
        return PullNode(self.ctx, self.repo, pull) if pull else None


def _pull_connection(ctx: GqlContext, repo: Repo, info: Info, args: Json) -> Json:
    states = set(args.get("states") or ())
    labels = {label.lower() for label in args.get("labels") or ()}
    pulls = [
        p
        for p in sorted(repo.pulls.values(), key=lambda p: p.number)
        if (not states or _pull_state(p) in states)
        and (not args.get("headRefName") or p.head_ref == args["headRefName"])
        and (not args.get("baseRefName") or p.base_ref == args["baseRefName"])
        and (not labels or labels & {n.lower() for n in p.labels})
    ]
    if (args.get("orderBy") or {}).get("direction") == "DESC":
        pulls.reverse()
    return _map_nodes(connection(info, pulls, args), lambda p: PullNode(ctx, repo, p))


def _pull_state(pull: PullRequest) -> str:
    return "MERGED" if pull.merged else pull.state.upper()


class ProtectionNode:
    typename = "BranchProtectionRule"

    def __init__(self, ctx: GqlContext, repo: Repo, branch: str, rule: Protection) -> None:
        self.ctx, self.repo = ctx, repo
        self.id = node_id("BranchProtectionRule", f"{repo.full_name}:{branch}")
        self.pattern = branch
        self.isAdminEnforced = rule.enforce_admins
        self.requiresStatusChecks = bool(rule.contexts)
        self.requiredStatusCheckContexts = list(rule.contexts)
        self.requiredStatusChecks = [{"context": c, "app": None} for c in rule.contexts]
        self.requiresStrictStatusChecks = rule.strict
        self.requiresApprovingReviews = rule.required_reviews > 0
        self.requiredApprovingReviewCount = rule.required_reviews or None
        for flag in (
            "allowsDeletions",
            "allowsForcePushes",
            "blocksCreations",
            "dismissesStaleReviews",
            "lockBranch",
            "requiresCodeOwnerReviews",
            "requiresCommitSignatures",
            "requireLastPushApproval",
            "requiresConversationResolution",
            "requiresDeployments",
            "requiresLinearHistory",
            "restrictsPushes",
            "restrictsReviewDismissals",
            "lockAllowsFetchAndMerge",
        ):
            setattr(self, flag, False)

    def repository(self, info: Info) -> RepoNode:
        return RepoNode(self.ctx, self.repo)


class RefNode:
    typename = "Ref"

    def __init__(self, ctx: GqlContext, repo: Repo, full_name: str) -> None:
        self.ctx, self.repo, self.full = ctx, repo, full_name
        self.id = node_id("Ref", f"{repo.full_name}:{full_name}")
        parts = full_name.split("/", 2)
        self.prefix = f"{parts[0]}/{parts[1]}/"
        self.name = parts[2]

    def target(self, info: Info) -> Any:
        return git_object(self.ctx, self.repo, self.repo.refs[self.full], "")

    def repository(self, info: Info) -> RepoNode:
        return RepoNode(self.ctx, self.repo)

    def branchProtectionRule(self, info: Info) -> ProtectionNode | None:
        rule = self.repo.protection_for(self.name) if self.prefix == HEADS else None
        return ProtectionNode(self.ctx, self.repo, self.name, rule) if rule else None

    def associatedPullRequests(self, info: Info, **args: Any) -> Json:
        return _pull_connection(self.ctx, self.repo, info, {**args, "headRefName": self.name})


class GitObjectNode:
    typename = "GitObject"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str) -> None:
        self.ctx, self.repo = ctx, repo
        self.oid = sha
        self.abbreviatedOid = sha[:7]
        self.id = node_id(self.typename, f"{repo.full_name}@{sha}")
        self.commitUrl = f"{ctx.base}/{repo.full_name}/commit/{sha}"
        self.commitResourcePath = f"/{repo.full_name}/commit/{sha}"

    def repository(self, info: Info) -> RepoNode:
        return RepoNode(self.ctx, self.repo)


class CommitNode(GitObjectNode):
    typename = "Commit"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str) -> None:
        super().__init__(ctx, repo, sha)
        commit = repo.commit(sha)
        self.message = commit.message
        self.messageHeadline, _, body = commit.message.partition("\n")
        self.messageBody = body.lstrip("\n")
        self.committedDate = iso(commit.committer.timestamp)
        self.authoredDate = iso(commit.author.timestamp)
        self.url = self.commitUrl
        self.author = {
            "name": commit.author.name,
            "email": commit.author.email,
            "date": iso(commit.author.timestamp),
            "user": None,
        }
        self.committer = {
            "name": commit.committer.name,
            "email": commit.committer.email,
            "date": iso(commit.committer.timestamp),
            "user": None,
        }

    def tree(self, info: Info) -> TreeNode:
        return TreeNode(self.ctx, self.repo, self.repo.commit(self.oid).tree, "")

    def parents(self, info: Info, **args: Any) -> Json:
        parents = list(self.repo.commit(self.oid).parents)
        return _map_nodes(connection(info, parents, args), lambda s: CommitNode(self.ctx, self.repo, s))

    def history(self, info: Info, **args: Any) -> Json:
        history = self.repo.git.ancestors(self.oid)
        if args.get("path"):
            history = [s for s in history if _touches(self.repo, s, str(args["path"]))]
        return _map_nodes(connection(info, history, args), lambda s: CommitNode(self.ctx, self.repo, s))

    def statusCheckRollup(self, info: Info) -> RollupNode | None:
        contexts = commit_contexts(self.repo, self.oid)
        return RollupNode(self.ctx, self.repo, self.oid, contexts) if contexts else None


def _touches(repo: Repo, sha: str, path: str) -> bool:
    commit = repo.commit(sha)
    before = repo.files_at(commit.parents[0]) if commit.parents else {}
    after = repo.files_at(sha)
    return any(
        p == path or p.startswith(path.rstrip("/") + "/")
        for p in set(before) | set(after)
        if before.get(p) != after.get(p)
    )


class TreeNode(GitObjectNode):
    typename = "Tree"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str, path: str) -> None:
        super().__init__(ctx, repo, sha)
        self.path = path

    def entries(self, info: Info) -> list[Json]:
        out = []
        for entry in self.repo.git.trees[self.oid]:
            path = f"{self.path}/{entry.name}" if self.path else entry.name
            is_blob = entry.kind == "blob"
            size = len(self.repo.git.blobs[entry.sha]) if is_blob else 0
            out.append(
                {
                    "name": entry.name,
                    "path": path,
                    "type": entry.kind,
                    "oid": entry.sha,
                    "mode": int(entry.mode if entry.mode != TREE_MODE else "40000", 8),
                    "nameRaw": entry.name,
                    "pathRaw": path,
                    "size": size,
                    "isGenerated": False,
                    "extension": ("." + entry.name.rsplit(".", 1)[1]) if is_blob and "." in entry.name else None,
                    "lineCount": self.repo.git.blobs[entry.sha].count(b"\n") if is_blob else None,
                    "language": None,
                    "submodule": None,
                    "object": git_object(self.ctx, self.repo, entry.sha, path),
                    "repository": RepoNode(self.ctx, self.repo),
                }
            )
        return out


class BlobNode(GitObjectNode):
    typename = "Blob"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str) -> None:
        super().__init__(ctx, repo, sha)
        data = repo.git.blobs[sha]
        limit = ctx.settings.blob_truncate_bytes
        self.byteSize = len(data)
        self.isBinary = _is_binary(data)
        self.isTruncated = len(data) > limit
        self.text = None if self.isBinary else data[:limit].decode("utf-8", errors="ignore")


def _is_binary(data: bytes) -> bool:
    head = data[:8000]
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(head) - 3  # a multi-byte character cut at the edge is still text
    return False


def git_object(ctx: GqlContext, repo: Repo, sha: str, path: str) -> GitObjectNode | None:
    full = repo.git.resolve_prefix(sha.lower())
    kind = repo.git.kind(full) if full else None
    if full is None or kind is None:
        return None
    if kind == "commit":
        return CommitNode(ctx, repo, full)
    if kind == "tree":
        return TreeNode(ctx, repo, full, path)
    return BlobNode(ctx, repo, full)


def resolve_expression(ctx: GqlContext, repo: Repo, expression: str) -> GitObjectNode | None:
    """`REV:PATH` (REV: HEAD, a branch, a tag or an abbreviated oid) or just `REV`."""
    revision, has_path, path = expression.partition(":")
    revision = revision or "HEAD"
    if revision == "HEAD":
        revision = repo.default_branch
    commit = repo.resolve_commitish(revision)
    if commit is None:
        return None
    if not has_path:
        return CommitNode(ctx, repo, commit)
    path = path.strip("/")
    entry = repo.git.lookup_path(repo.commit(commit).tree, path)
    return git_object(ctx, repo, entry.sha, path) if entry else None


# ---------------------------------------------------------------- checks and statuses of a commit


CHECK_FAILED = frozenset({"action_required", "cancelled", "failure", "timed_out", "startup_failure"})
CHECK_PASSED = frozenset({"success", "neutral", "skipped"})
_CHECK_RUN_STATES = frozenset(
    {
        "ACTION_REQUIRED",
        "CANCELLED",
        "COMPLETED",
        "FAILURE",
        "IN_PROGRESS",
        "NEUTRAL",
        "PENDING",
        "QUEUED",
        "SKIPPED",
        "STALE",
        "STARTUP_FAILURE",
        "SUCCESS",
        "TIMED_OUT",
        "WAITING",
    }
)


def commit_contexts(repo: Repo, sha: str) -> list[CheckRun | Status]:
    """What the rollup shows for a commit: the latest check run per name, then the latest status per context."""
    runs: dict[str, CheckRun] = {}
    for run in sorted(repo.check_runs.values(), key=lambda r: r.id):
        if run.head_sha == sha:
            runs[run.name] = run
    statuses: dict[str, Status] = {}
    for status in repo.statuses:  # in creation order, so the last one per context wins
        if status.sha == sha:
            statuses[status.context] = status
    return [*runs.values(), *statuses.values()]


def _verdict(item: CheckRun | Status) -> str:
    """ "failure", "pending" or "success": how one context counts towards the rollup."""
    if isinstance(item, Status):
        return {"error": "failure", "failure": "failure", "success": "success"}.get(item.state, "pending")
    if item.status != "completed":
        return "pending"
    conclusion = (item.conclusion or "").lower()
    return "failure" if conclusion in CHECK_FAILED else "success" if conclusion in CHECK_PASSED else "pending"


def rollup_state(items: Sequence[CheckRun | Status]) -> str:
    """GitHub's rule: any failing (or erroring) context fails it, else any unfinished one keeps it pending."""
    verdicts = {_verdict(item) for item in items}
    return "FAILURE" if "failure" in verdicts else "PENDING" if "pending" in verdicts else "SUCCESS"


def _check_run_state(run: CheckRun) -> str:
    state = (run.conclusion if run.status == "completed" and run.conclusion else run.status).upper()
    return state if state in _CHECK_RUN_STATES else "PENDING"


def _is_required(ctx: GqlContext, repo: Repo, name: str, args: Json) -> bool:
    """Whether a context named `name` is a required check of the pull request's base branch."""
    pull: PullRequest | None = None
    if args.get("pullRequestNumber") is not None:
        pull = repo.pulls.get(int(args["pullRequestNumber"]))
    elif args.get("pullRequestId") is not None:
        node = lookup_node(ctx, str(args["pullRequestId"]))
        pull = node.pull if isinstance(node, PullNode) and node.repo is repo else None
    else:
        raise GitHubError("UNPROCESSABLE", "A pullRequestId or pullRequestNumber is required.")
    if pull is None:
        raise GitHubError("NOT_FOUND", "Could not resolve to a PullRequest.")
    rule = repo.protection_for(pull.base_ref)
    return rule is not None and name in rule.contexts


class CheckRunNode:
    typename = "CheckRun"

    def __init__(self, ctx: GqlContext, repo: Repo, run: CheckRun) -> None:
        self.ctx, self.repo, self.run = ctx, repo, run
        self.id = node_id("CheckRun", f"{repo.full_name}:{run.id}")
        self.databaseId, self.name = run.id, run.name
        self.status = run.status.upper()
        self.conclusion = run.conclusion.upper() if run.conclusion else None
        self.startedAt, self.completedAt = iso(run.started_at), iso(run.completed_at)
        self.detailsUrl, self.externalId = run.details_url, run.external_id
        self.title, self.summary, self.text = run.title, run.summary, run.text
        self.resourcePath = f"/{repo.full_name}/runs/{run.id}"
        self.url = self.permalink = f"{ctx.base}{self.resourcePath}"

    def repository(self, info: Info) -> RepoNode:
        return RepoNode(self.ctx, self.repo)

    def isRequired(self, info: Info, **args: Any) -> bool:
        return _is_required(self.ctx, self.repo, self.run.name, args)


class StatusContextNode:
    typename = "StatusContext"

    def __init__(self, ctx: GqlContext, repo: Repo, status: Status) -> None:
        self.ctx, self.repo, self.status = ctx, repo, status
        self.id = node_id("StatusContext", f"{repo.full_name}:{status.id}")
        self.context, self.state = status.context, status.state.upper()
        self.description, self.targetUrl = status.description, status.target_url
        self.createdAt = iso(status.created_at)

    def avatarUrl(self, info: Info, **args: Any) -> str:
        return f"{self.ctx.base}/avatars/{SANDBOX_USER}"

    def creator(self, info: Info) -> UserNode:
        return UserNode(self.ctx)

    def commit(self, info: Info) -> CommitNode:
        return CommitNode(self.ctx, self.repo, self.status.sha)

    def isRequired(self, info: Info, **args: Any) -> bool:
        return _is_required(self.ctx, self.repo, self.status.context, args)


class RollupNode:
    typename = "StatusCheckRollup"

    def __init__(self, ctx: GqlContext, repo: Repo, sha: str, items: list[CheckRun | Status]) -> None:
        self.ctx, self.repo, self.sha, self.items = ctx, repo, sha, items
        self.id = node_id("StatusCheckRollup", f"{repo.full_name}@{sha}")
        self.state = rollup_state(items)

    def commit(self, info: Info) -> CommitNode:
        return CommitNode(self.ctx, self.repo, self.sha)

    def contexts(self, info: Info, **args: Any) -> Json:
        def wrap(item: CheckRun | Status) -> CheckRunNode | StatusContextNode:
            if isinstance(item, CheckRun):
                return CheckRunNode(self.ctx, self.repo, item)
            return StatusContextNode(self.ctx, self.repo, item)

        result = _map_nodes(connection(info, self.items, args), wrap)
        runs = [i for i in self.items if isinstance(i, CheckRun)]
        statuses = [i for i in self.items if isinstance(i, Status)]
        run_counts = Counter(_check_run_state(r) for r in runs)
        status_counts = Counter(s.state.upper() for s in statuses)
        result.update(
            {
                "checkRunCount": len(runs),
                "statusContextCount": len(statuses),
                "checkRunCountsByState": [{"state": k, "count": n} for k, n in sorted(run_counts.items())],
                "statusContextCountsByState": [{"state": k, "count": n} for k, n in sorted(status_counts.items())],
            }
        )
        return result


# ---------------------------------------------------------------- pull requests


def pull_commits(repo: Repo, pull: PullRequest, head: str) -> list[str]:
    """The pull request's own commits, oldest first: those of its head that its base did not have.

    A merged pull request is measured against the base as it was (the merge commit's first parent), so it
    keeps its commits after the merge, as on GitHub.
    """
    if head not in repo.git.commits:
        return []
    base = repo.branch_sha(pull.base_ref)
    if pull.merged and pull.merge_commit_sha in repo.git.commits:
        parents = repo.commit(str(pull.merge_commit_sha)).parents
        base = parents[0] if parents else base
    behind = set(repo.git.ancestors(base)) if base else set()
    own = [sha for sha in repo.git.ancestors(head) if sha not in behind]
    return list(reversed(own)) or [head]


class PullCommitNode:
    typename = "PullRequestCommit"

    def __init__(self, ctx: GqlContext, repo: Repo, pull: PullRequest, sha: str) -> None:
        self.ctx, self.repo, self.pull, self.sha = ctx, repo, pull, sha
        self.id = node_id("PullRequestCommit", f"{repo.full_name}#{pull.number}@{sha}")
        self.resourcePath = f"/{repo.full_name}/pull/{pull.number}/commits/{sha}"
        self.url = f"{ctx.base}{self.resourcePath}"

    def commit(self, info: Info) -> CommitNode:
        return CommitNode(self.ctx, self.repo, self.sha)

    def pullRequest(self, info: Info) -> PullNode:
        return PullNode(self.ctx, self.repo, self.pull)


class TeamNode:
    typename = "Team"

    def __init__(self, ctx: GqlContext, org: str, slug: str) -> None:
        self.ctx, self.org = ctx, org
        self.id = node_id("Team", f"{org}/{slug}")
        self.databaseId = ctx.store.account_id("Team", f"{org}/{slug}")
        self.name = self.slug = slug
        self.combinedSlug = f"{org}/{slug}"
        self.description = None
        self.privacy = "VISIBLE"
        self.resourcePath = f"/orgs/{org}/teams/{slug}"
        self.url = f"{ctx.base}{self.resourcePath}"

    def organization(self, info: Info) -> OrgNode:
        return OrgNode(self.ctx, self.ctx.store.orgs[self.org])


class PullNode:
    typename = "PullRequest"

    def __init__(self, ctx: GqlContext, repo: Repo, pull: PullRequest) -> None:
        self.ctx, self.repo, self.pull = ctx, repo, pull
        self.id = node_id("PullRequest", f"{repo.full_name}#{pull.number}")
        self.databaseId, self.number = pull.id, pull.number
        self.title, self.body = pull.title, pull.body or ""
        self.state = _pull_state(pull)
        self.url = self.permalink = f"{ctx.base}/{repo.full_name}/pull/{pull.number}"
        self.headRefName, self.baseRefName = pull.head_ref, pull.base_ref
        self.headRefOid = ctx.store.head_sha(repo, pull)
        self.baseRefOid = repo.branch_sha(pull.base_ref) or ""
        self.merged, self.mergedAt = pull.merged, iso(pull.merged_at)
        self.closed, self.closedAt = pull.state == "closed", iso(pull.closed_at)
        self.isDraft = pull.draft
        self.createdAt, self.updatedAt = iso(pull.created_at), iso(pull.updated_at)
        self.mergeable = (
            "UNKNOWN"
            if pull.state != "open"
            else (
                "MERGEABLE" if ops.merged_files(repo, self.baseRefOid, self.headRefOid) is not None else "CONFLICTING"
            )
        )
        rule = repo.protection_for(pull.base_ref)
        # Reviews are not modelled, so none ever approves: required reviews are always still required.
        self.reviewDecision = "REVIEW_REQUIRED" if rule is not None and rule.required_reviews > 0 else None

    def author(self, info: Info) -> UserNode:
        return UserNode(self.ctx, self.pull.user)

    def repository(self, info: Info) -> RepoNode:
        return RepoNode(self.ctx, self.repo)

    def headRef(self, info: Info) -> RefNode | None:
        name = HEADS + self.pull.head_ref
        return RefNode(self.ctx, self.repo, name) if name in self.repo.refs else None

    def baseRef(self, info: Info) -> RefNode | None:
        name = HEADS + self.pull.base_ref
        return RefNode(self.ctx, self.repo, name) if name in self.repo.refs else None

    def mergeCommit(self, info: Info) -> CommitNode | None:
        sha = self.pull.merge_commit_sha
        return CommitNode(self.ctx, self.repo, sha) if sha else None

    def labels(self, info: Info, **args: Any) -> Json:
        items = [self.ctx.store.label(self.repo, n) for n in self.pull.labels]
        return _map_nodes(
            connection(info, items, args),
            lambda item: {
                "id": node_id("Label", f"{self.repo.full_name}:{item.id}"),
                "name": item.name,
                "color": item.color,
                "description": item.description,
                "isDefault": False,
            },
        )

    def comments(self, info: Info, **args: Any) -> Json:
        items = [c for c in self.repo.comments if c.issue_number == self.pull.number]
        return _map_nodes(connection(info, items, args), lambda c: CommentNode(self.ctx, self.repo, c))

    def commits(self, info: Info, **args: Any) -> Json:
        shas = pull_commits(self.repo, self.pull, self.headRefOid)
        return _map_nodes(connection(info, shas, args), lambda s: PullCommitNode(self.ctx, self.repo, self.pull, s))

    def reviewRequests(self, info: Info, **args: Any) -> Json:
        items = [("User", u) for u in self.pull.requested_reviewers] + [("Team", t) for t in self.pull.requested_teams]
        return _map_nodes(connection(info, items, args), self._review_request)

    def _review_request(self, item: tuple[str, str]) -> Json:
        kind, name = item
        reviewer: UserNode | TeamNode = (
            UserNode(self.ctx, name) if kind == "User" else TeamNode(self.ctx, self.repo.org, name)
        )
        key = f"{self.repo.full_name}#{self.pull.number}:{kind}:{name}"
        return {
            "id": node_id("ReviewRequest", key),
            "databaseId": self.ctx.store.account_id("ReviewRequest", key),
            "asCodeOwner": False,
            "pullRequest": self,
            "requestedReviewer": reviewer,
        }


class CommentNode:
    typename = "IssueComment"

    def __init__(self, ctx: GqlContext, repo: Repo, comment: Comment) -> None:
        self.ctx, self.repo, self.comment = ctx, repo, comment
        self.id = node_id("IssueComment", f"{repo.full_name}:{comment.id}")
        self.databaseId, self.body = comment.id, comment.body
        self.bodyText = comment.body
        self.createdAt = self.updatedAt = iso(comment.created_at)
        self.url = f"{ctx.base}/{repo.full_name}/pull/{comment.issue_number}#issuecomment-{comment.id}"

    def author(self, info: Info) -> UserNode:
        return UserNode(self.ctx, self.comment.user)


# ---------------------------------------------------------------- node lookup


def _split_repo_key(key: str, separator: str) -> tuple[str, str, str] | None:
    full, sep, rest = key.partition(separator)
    owner, _, name = full.partition("/")
    return (owner, name, rest) if sep and owner and name else None


def lookup_node(ctx: GqlContext, global_id: str) -> Any:
    parsed = parse_node_id(global_id)
    if parsed is None:
        return None
    kind, key = parsed
    store = ctx.store
    if kind == "Organization":
        org = store.org(key)
        return OrgNode(ctx, org) if org else None
    if kind == "Repository":
        owner, _, name = key.partition("/")
        repo = store.repo(owner, name)
        return RepoNode(ctx, repo) if repo else None
    separators = {
        "Ref": ":",
        "PullRequest": "#",
        "Commit": "@",
        "Tree": "@",
        "Blob": "@",
        "IssueComment": ":",
        "BranchProtectionRule": ":",
    }
    if kind not in separators:
        return None
    parts = _split_repo_key(key, separators[kind])
    repo = store.repo(parts[0], parts[1]) if parts else None
    if parts is None or repo is None:
        return None
    rest = parts[2]
    if kind == "Ref":
        return RefNode(ctx, repo, rest) if rest in repo.refs else None
    if kind == "PullRequest":
        pull = repo.pulls.get(int(rest)) if rest.isdigit() else None
        return PullNode(ctx, repo, pull) if pull else None
    if kind == "IssueComment":
        comment = next((c for c in repo.comments if str(c.id) == rest), None)
        return CommentNode(ctx, repo, comment) if comment else None
    if kind == "BranchProtectionRule":
        rule = repo.protection_for(rest)
        return ProtectionNode(ctx, repo, rest, rule) if rule else None
    return git_object(ctx, repo, rest, "")


def _require_node(ctx: GqlContext, global_id: str, kind: type[Any]) -> Any:
    found = lookup_node(ctx, global_id)
    if not isinstance(found, kind):
        raise GitHubError("NOT_FOUND", f"Could not resolve to a node with the global id of '{global_id}'")
    return found


# ---------------------------------------------------------------- roots


class QueryRoot:
    def __init__(self, ctx: GqlContext) -> None:
        self.ctx = ctx

    def organization(self, info: Info, login: str) -> OrgNode:
        org = self.ctx.store.org(login)
        if org is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to an Organization with the login of '{login}'.")
        return OrgNode(self.ctx, org)

    def repositoryOwner(self, info: Info, login: str) -> OrgNode | None:
        org = self.ctx.store.org(login)
        return OrgNode(self.ctx, org) if org else None

    def repository(self, info: Info, owner: str, name: str, **args: Any) -> RepoNode:
        repo = self.ctx.store.repo(owner, name)
        if repo is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return RepoNode(self.ctx, repo)

    def node(self, info: Info, id: str) -> Any:
        found = lookup_node(self.ctx, id)
        if found is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")
        return found

    def nodes(self, info: Info, ids: list[str]) -> list[Any]:
        return [lookup_node(self.ctx, i) for i in ids]

    def viewer(self, info: Info) -> UserNode:
        return UserNode(self.ctx)

    def rateLimit(self, info: Info, dryRun: bool = False) -> Json:
        budget = self.ctx.limits.budget(self.ctx.token, "graphql")
        return {
            "cost": self.ctx.cost.points,
            "limit": budget.limit,
            "remaining": budget.remaining,
            "used": budget.used,
            "resetAt": iso(budget.reset),
            "nodeCount": self.ctx.cost.nodes,
        }


def _op(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except OpError as error:
        raise GitHubError(error.gql_type, error.message) from error


class MutationRoot:
    def __init__(self, ctx: GqlContext) -> None:
        self.ctx = ctx

    def _writable_repo(self, repo: Repo) -> Repo:
        _op(lambda: ops.require_write(repo, self.ctx.power))
        return repo

    def _repo_by_id(self, global_id: str) -> Repo:
        node: RepoNode = _require_node(self.ctx, global_id, RepoNode)
        return self._writable_repo(node.repo)

    def _pull_by_id(self, global_id: str) -> PullNode:
        node: PullNode = _require_node(self.ctx, global_id, PullNode)
        self._writable_repo(node.repo)
        return node

    def createRef(self, info: Info, input: Json) -> Json:
        repo = self._repo_by_id(input["repositoryId"])
        name, oid = str(input["name"]), str(input["oid"])
        if not name.startswith("refs/") or name.count("/") < 2:
            raise GitHubError(
                "UNPROCESSABLE",
                f"Reference name '{name}' is not fully qualified; "
                "use a name starting with refs/, like refs/heads/branch.",
            )
        if name in repo.refs:
            raise GitHubError("UNPROCESSABLE", f'A ref named "{name}" already exists in the repository.')
        if repo.git.kind(oid) is None:
            raise GitHubError("UNPROCESSABLE", f"Object {oid} does not exist in the repository.")
        _op(lambda: ops.require_workflow_power(self.ctx.power, ops.new_changes(repo, oid)))
        repo.refs[name] = oid
        return {"clientMutationId": input.get("clientMutationId"), "ref": RefNode(self.ctx, repo, name)}

    def deleteRef(self, info: Info, input: Json) -> Json:
        node: RefNode = _require_node(self.ctx, input["refId"], RefNode)
        self._writable_repo(node.repo)
        if node.prefix == HEADS and node.repo.protection_for(node.name):
            raise GitHubError("UNPROCESSABLE", f"Cannot delete protected branch {node.name}.")
        del node.repo.refs[node.full]
        return {"clientMutationId": input.get("clientMutationId")}

    def createCommitOnBranch(self, info: Info, input: Json) -> Json:
        repo, branch = self._committable_branch(input["branch"])
        head = repo.branch_sha(branch)
        if head is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a Ref named 'refs/heads/{branch}'.")
        if input["expectedHeadOid"] != head:
            raise GitHubError(
                "STALE_DATA",
                f'Expected branch to point to "{input["expectedHeadOid"]}" but it did not. Pull and try again.',
            )
        changes = self._file_changes(repo, head, input.get("fileChanges") or {})
        _op(lambda: ops.require_workflow_power(self.ctx.power, sorted(changes)))
        _op(
            lambda: ops.require_direct_push(
                repo,
                branch,
                self.ctx.power,
                status=422,
                message=f"Protected branch update failed for refs/heads/{branch}.",
            )
        )
        message = input["message"]
        text = message["headline"] + (f"\n\n{message['body']}" if message.get("body") else "")
        commit = self.ctx.store.commit_changes(repo, parent=head, changes=changes, message=text)
        repo.refs[HEADS + branch] = commit.sha
        repo.pushed_at = self.ctx.store.clock()
        return {
            "clientMutationId": input.get("clientMutationId"),
            "commit": CommitNode(self.ctx, repo, commit.sha),
            "ref": RefNode(self.ctx, repo, HEADS + branch),
        }

    def _committable_branch(self, branch: Json) -> tuple[Repo, str]:
        if branch.get("id"):
            node: RefNode = _require_node(self.ctx, branch["id"], RefNode)
            return self._writable_repo(node.repo), node.name
        full = str(branch.get("repositoryNameWithOwner") or "")
        owner, _, name = full.partition("/")
        repo = self.ctx.store.repo(owner, name)
        if repo is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a Repository with the name '{full}'.")
        return self._writable_repo(repo), str(branch.get("branchName") or "")

    @staticmethod
    def _file_changes(repo: Repo, head: str, raw: Json) -> dict[str, bytes | None]:
        existing = repo.files_at(head)
        changes: dict[str, bytes | None] = {}
        for deletion in raw.get("deletions") or ():
            if deletion["path"] not in existing:
                raise GitHubError(
                    "UNPROCESSABLE", f"A path was requested for deletion which does not exist as of commit oid `{head}`"
                )
            changes[deletion["path"]] = None
        for addition in raw.get("additions") or ():
            try:
                changes[addition["path"]] = base64.b64decode(addition["contents"], validate=True)
            except (binascii.Error, ValueError) as error:
                raise GitHubError(
                    "UNPROCESSABLE", f"The contents of {addition['path']} are not valid Base64."
                ) from error
        return changes

    def createPullRequest(self, info: Info, input: Json) -> Json:
        repo = self._repo_by_id(input["repositoryId"])
        pull = _op(
            lambda: ops.create_pull(
                self.ctx.store,
                repo,
                head=input["headRefName"],
                base=input["baseRefName"],
                title=input["title"],
                body=input.get("body"),
                draft=bool(input.get("draft")),
            )
        )
        return {"clientMutationId": input.get("clientMutationId"), "pullRequest": PullNode(self.ctx, repo, pull)}

    def closePullRequest(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["pullRequestId"])
        ops.close_pull(self.ctx.store, node.pull)
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, node.repo, node.pull),
        }

    def mergePullRequest(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["pullRequestId"])
        method = str(input.get("mergeMethod") or "MERGE").lower()
        _op(
            lambda: ops.merge_pull(
                self.ctx.store,
                node.repo,
                node.pull,
                power=self.ctx.power,
                method=method,
                expected_sha=input.get("expectedHeadOid"),
                title=input.get("commitHeadline"),
                message=input.get("commitBody"),
            )
        )
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, node.repo, node.pull),
        }

    def revertPullRequest(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["pullRequestId"])
        revert = _op(
            lambda: ops.revert_pull(
                self.ctx.store,
                node.repo,
                node.pull,
                title=input.get("title"),
                body=input.get("body"),
                draft=bool(input.get("draft")),
                power=self.ctx.power,
            )
        )
        return {
            "clientMutationId": input.get("clientMutationId"),
            "pullRequest": PullNode(self.ctx, node.repo, node.pull),
            "revertPullRequest": PullNode(self.ctx, node.repo, revert),
        }

    def addComment(self, info: Info, input: Json) -> Json:
        node = self._pull_by_id(input["subjectId"])
        if not input["body"]:
            raise GitHubError("UNPROCESSABLE", "Body can't be blank")
        comment = self.ctx.store.add_comment(node.repo, node.pull.number, input["body"])
        comment_node = CommentNode(self.ctx, node.repo, comment)
        edge = {"cursor": _encode_cursor(len(node.repo.comments) - 1), "node": comment_node}
        return {
            "clientMutationId": input.get("clientMutationId"),
            "commentEdge": edge,
            "subject": node,
            "timelineEdge": {"cursor": edge["cursor"], "node": comment_node},
        }


# ---------------------------------------------------------------- execution


@dataclass(frozen=True)
class GraphQLOutcome:
    body: Json
    operation_name: str | None
    is_mutation: bool
    points: int


def _type_resolver(value: Any, info: Info, abstract_type: Any) -> str | None:
    return getattr(value, "typename", None)


def _format_error(error: GraphQLError) -> Json:
    original = error.original_error
    data: Json = {}
    if isinstance(original, GitHubError):
        data["type"] = original.kind
    if error.path is not None:
        data["path"] = list(error.path)
    if error.locations:
        data["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    data["message"] = original.message if isinstance(original, GitHubError) else error.message
    return data


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def run(ctx: GqlContext, payload: Any, *, charge: Callable[[int], bool]) -> GraphQLOutcome:
    """Execute one GraphQL request. `charge(points)` spends budget and says whether it was available."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return GraphQLOutcome(
            {"errors": [{"message": "A query attribute must be specified and must be a string."}]}, None, False, 0
        )
    name = payload.get("operationName") or None
    variables = payload.get("variables") or {}
    document = _parse(payload["query"])
    if isinstance(document, list):
        return GraphQLOutcome({"errors": document}, name, False, 0)
    problems = validate(schema(), document)
    if problems:
        return GraphQLOutcome({"errors": [_github_validation_error(e) for e in problems]}, name, False, 0)
    operation = select_operation(document, name)
    if operation is None:
        return GraphQLOutcome({"errors": [{"message": "An operation name is required"}]}, name, False, 0)
    op_name = operation.name.value if operation.name else name
    is_mutation = operation.operation == OperationType.MUTATION
    ctx.cost = Cost(1, 0) if is_mutation else query_cost(document, operation, variables)
    if not charge(ctx.cost.points):
        message = "API rate limit already exceeded for user ID 1."
        return GraphQLOutcome(
            {"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", "message": message}]},
            op_name,
            is_mutation,
            0,
        )
    root: Any = MutationRoot(ctx) if is_mutation else QueryRoot(ctx)
    result = execute(
        schema(),
        document,
        root_value=root,
        variable_values=variables,
        operation_name=op_name,
        type_resolver=_type_resolver,
    )
    assert isinstance(result, ExecutionResult)  # no resolver is async
    body: Json = {}
    if result.errors:
        body["errors"] = [_format_error(e) for e in result.errors]
    body["data"] = result.data
    return GraphQLOutcome(body, op_name, is_mutation, ctx.cost.points)


def is_mutation_request(payload: Any) -> bool:
    """Whether a request is content-creating, decided before the secondary limit is checked."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return False
    document = _parse(payload["query"])
    if isinstance(document, list):
        return False
    operation = select_operation(document, payload.get("operationName") or None)
    return operation is not None and operation.operation == OperationType.MUTATION
