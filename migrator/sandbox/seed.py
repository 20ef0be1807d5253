"""Load a seed folder into a `Store`.

Layout:
    DIR/<org>.meta.json            optional: {"secrets": [...] or {name: value}, "tokens": {token: power
                                   or {"power": power, "login": user}},
                                   "apps": [{"id": 123, "public_key": "<PEM>", "installation_id": 456,
                                             "permissions": {"contents": "write", ...}}]}
                                   (GitHub Apps installed on the org; see `migrator.sandbox.apps`),
                                   "rulesets": [...] (org rulesets; format in `migrator.sandbox.rulesets`),
                                   "actions": {"allowed_actions": "all"|"local_only"|"selected",
                                               "sha_pinning_required": bool, "enabled": bool,
                                               "selected_actions": {"github_owned_allowed": bool,
                                                   "verified_allowed": bool, "patterns_allowed": [...]}}
                                   (a token may also be {"power": ..., "login": ..., "teams": ["release"]})
    DIR/<org>/<repo>/...           the files of the default branch, one initial commit; a symbolic
                                   link (to a file or a folder, inside or outside) is committed
                                   as git does, a mode-120000 blob holding its target, never followed
    DIR/<org>/<repo>.meta.json     optional: default_branch, archived, fork, empty,
                                   visibility, topics, secrets, protection, description,
                                   rulesets, actions (both as in the org's meta),
                                   merge_methods (["merge", "squash", "rebase"]), allow_auto_merge,
                                   merge_queue (the default branch merges through a merge queue)

Only names and meta files are read at startup; a repository's files are read
and hashed the first time anything asks for it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from migrator.errors import InputError
from migrator.sandbox import apps, rulesets
from migrator.sandbox.git import EXEC_MODE, FILE_MODE, SYMLINK_MODE, FileEntry
from migrator.sandbox.protection import Allowances
from migrator.sandbox.store import (
    HEADS,
    SEED_AUTHOR,
    Org,
    Power,
    Protection,
    Repo,
    RepoMeta,
    Store,
)

META_SUFFIX = ".meta.json"


def load_seed(seed_dir: Path, store: Store) -> Store:
    if not seed_dir.is_dir():
        raise InputError(
            f"seed folder {seed_dir} does not exist; create it or generate one with "
            "`python -m migrator.sandbox.generate`"
        )
    with store.lock:
        for entry in sorted(os.scandir(seed_dir), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith("."):
                _load_org(store, Path(entry.path))
    return store


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {path}: {error}; fix the JSON") from error
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object")
    return data


def _load_org(store: Store, org_dir: Path) -> None:
    meta = _read_json(org_dir.with_name(org_dir.name + META_SUFFIX))
    secret_names, secret_values = _secrets(meta.get("secrets", ()))
    org = Org(login=org_dir.name, id=store.next_id("owner"), secrets=secret_names, secret_values=secret_values)
    for token, given in dict(meta.get("tokens", {})).items():
        power = given.get("power", "full") if isinstance(given, dict) else given
        if isinstance(given, dict) and given.get("login"):
            store.token_logins[str(token)] = str(given["login"])
        if isinstance(given, dict) and given.get("teams"):
            store.token_teams[str(token)] = tuple(f"{org_dir.name}/{t}" for t in given["teams"])
        try:
            store.tokens[str(token)] = Power.parse(str(power))
        except ValueError as error:
            raise InputError(
                f"{org_dir.name}{META_SUFFIX}: unknown token power {power!r}; "
                f"use one of {', '.join(p.value for p in Power)} or full"
            ) from error
    try:
        apps.install_from_seed(store, org.login, meta.get("apps", []))
    except ValueError as error:
        raise InputError(f"{org_dir.name}{META_SUFFIX}: {error}") from error
    try:
        org.rulesets = _rulesets(store, org.login, meta.get("rulesets"), "Organization", org.login)
        org.actions = rulesets.ActionsPolicy.parse(meta.get("actions"))
    except (ValueError, TypeError, AttributeError) as error:
        raise InputError(f"{org_dir.name}{META_SUFFIX}: {error}") from error
    store.orgs[org.login] = org
    with os.scandir(org_dir) as entries:
        names = sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))
    metas = {p.name[: -len(META_SUFFIX)] for p in org_dir.glob("*" + META_SUFFIX)}
    for name in sorted(set(names) | metas):
        raw_meta = _read_json(org_dir / (name + META_SUFFIX))
        try:
            repo_meta = _repo_meta(raw_meta)
            repo_rulesets = _rulesets(store, org.login, raw_meta.get("rulesets"), "Repository", f"{org.login}/{name}")
        except (ValueError, TypeError, AttributeError) as error:
            raise InputError(f"{org_dir.name}/{name}{META_SUFFIX}: {error}") from error
        repo_id = store.next_id("repo")
        # distinct creation times give GitHub's default "newest first" listing a stable order
        created = float(SEED_AUTHOR.timestamp + repo_id)
        repo = Repo(org=org.login, name=name, id=repo_id, meta=repo_meta, created_at=created, pushed_at=created)
        repo.rulesets = repo_rulesets
        repo_dir = org_dir / name
        repo.loader = lambda r, d=repo_dir: _materialise(r, d)
        if repo_meta.protection is not None:
            repo.protections[repo_meta.default_branch] = repo_meta.protection
        org.repos[name] = repo


def _rulesets(store: Store, org: str, raw: Any, source_type: str, source: str) -> list[rulesets.Ruleset]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("rulesets must be a list")
    return [
        rulesets.parse_ruleset(
            item,
            id=store.next_id("ruleset"),
            source_type=source_type,
            source=source,
            team_id=lambda slug: store.account_id("Team", f"{org}/{slug}"),
        )
        for item in raw
    ]


def _secrets(raw: Any) -> tuple[tuple[str, ...], dict[str, str]]:
    """Secret names, and the values the seed gives some of them (`{"PAT_TOKEN": "tok-admin"}`)."""
    if isinstance(raw, dict):
        return tuple(str(k) for k in raw), {str(k): str(v) for k, v in raw.items() if v is not None}
    return tuple(str(n) for n in raw or ()), {}


def _repo_meta(raw: dict[str, Any]) -> RepoMeta:
    protection = raw.get("protection")
    secret_names, secret_values = _secrets(raw.get("secrets", ()))
    return RepoMeta(
        default_branch=str(raw.get("default_branch", "main")),
        archived=bool(raw.get("archived", False)),
        fork=bool(raw.get("fork", False)),
        empty=bool(raw.get("empty", False)),
        visibility=str(raw.get("visibility", "public")),
        topics=tuple(raw.get("topics", ())),
        secrets=secret_names,
        protection=parse_protection(protection) if isinstance(protection, dict) else None,
        description=raw.get("description"),
        secret_values=secret_values,
        actions=rulesets.ActionsPolicy.parse(raw["actions"]) if isinstance(raw.get("actions"), dict) else None,
        merge_methods=tuple(str(m) for m in raw.get("merge_methods", ("merge", "squash", "rebase"))),
        allow_auto_merge=bool(raw.get("allow_auto_merge", False)),
        merge_queue=bool(raw.get("merge_queue", False)),
    )


def parse_protection(raw: dict[str, Any]) -> Protection:
    """Accepts the seed shorthand and GitHub's own PUT .../protection body."""
    checks = raw.get("required_status_checks") or {}
    contexts = raw.get("contexts") or (checks.get("contexts") if isinstance(checks, dict) else checks) or ()
    reviews = raw.get("required_pull_request_reviews") or {}
    count = raw.get("required_reviews", reviews.get("required_approving_review_count", 1) if reviews else 0)
    enforce = raw.get("enforce_admins", False)
    bypass = raw.get("bypass_pull_request_allowances") or (reviews.get("bypass_pull_request_allowances") or {})
    restrictions = raw.get("restrictions")
    return Protection(
        enforce_admins=bool(enforce.get("enabled") if isinstance(enforce, dict) else enforce),
        contexts=tuple(str(c) for c in contexts),
        strict=bool(checks.get("strict", False)) if isinstance(checks, dict) else False,
        required_reviews=int(count or 0),
        bypass_pull_requests=_allowances(bypass),
        restrictions=_allowances(restrictions) if isinstance(restrictions, dict) else None,
    )


def _allowances(raw: Any) -> Allowances:
    """GitHub's `{users, teams, apps}` of logins and slugs (an App may be named by its id in a seed)."""
    if not isinstance(raw, dict):
        return Allowances()

    def names(key: str, field: str) -> tuple[str, ...]:
        found = raw.get(key) or ()
        return tuple(str(v.get(field) if isinstance(v, dict) else v) for v in found)

    return Allowances(users=names("users", "login"), teams=names("teams", "slug"), apps=names("apps", "slug"))


def _materialise(repo: Repo, repo_dir: Path) -> None:
    if repo.meta.empty or not repo_dir.is_dir():
        return
    files: dict[str, FileEntry] = {}
    for root, dirs, names in os.walk(repo_dir):  # never descends into linked folders
        linked = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = [d for d in dirs if d != ".git" and d not in linked]
        for name in [*names, *linked]:
            path = os.path.join(root, name)
            entry = _file_entry(repo, path)
            if entry is not None:
                files[os.path.relpath(path, repo_dir).replace(os.sep, "/")] = entry
    if not files:
        return
    tree = repo.git.build_tree(files)
    commit = repo.git.put_commit(
        tree=tree, parents=(), author=SEED_AUTHOR, committer=SEED_AUTHOR, message="Initial commit\n"
    )
    repo.refs.seed(HEADS + repo.meta.default_branch, commit.sha)


def _file_entry(repo: Repo, path: str) -> FileEntry | None:
    """A file's blob and mode as git would commit it; None for what git cannot hold (a fifo, a socket)."""
    if os.path.islink(path):
        return FileEntry(repo.git.put_blob(os.fsencode(os.readlink(path))), SYMLINK_MODE)
    if not stat.S_ISREG(os.stat(path).st_mode):
        return None
    with open(path, "rb") as handle:
        data = handle.read()
    return FileEntry(repo.git.put_blob(data), EXEC_MODE if os.access(path, os.X_OK) else FILE_MODE)
