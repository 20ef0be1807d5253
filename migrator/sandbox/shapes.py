"""The JSON shapes of GitHub's REST API, with URLs built from the request's base URL.

`base` is where REST lives for the client (`http://host:port`, or `http://host:port/api/v3` when it came
the GHES way): API URLs (`url`, `*_url` of the API) start with it; web pages (`html_url`, avatars, clone
URLs) live at the host's root, `web_root(base)`, as on GitHub Enterprise Server.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from migrator.sandbox.git import Commit, Signature, TreeEntry
from migrator.sandbox.http import GHES_PREFIX
from migrator.sandbox.protection import Allowances
from migrator.sandbox.store import (
    SANDBOX_USER,
    SANDBOX_USER_ID,
    CheckRun,
    Comment,
    Label,
    Org,
    Protection,
    PullRequest,
    Repo,
    Status,
    Store,
    node_id,
)

Json = dict[str, Any]


def web_root(base: str) -> str:
    """The web host for an API base: GHES serves REST under /api/v3 and pages at the root."""
    return base[: -len(GHES_PREFIX)] if base.endswith(GHES_PREFIX) else base


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def b64_lines(data: bytes) -> str:
    """Base64 wrapped at 60 characters, each line ending in a newline, as GitHub sends it."""
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


def user(base: str, login: str = SANDBOX_USER, user_id: int = SANDBOX_USER_ID, kind: str = "User") -> Json:
    url = f"{base}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": node_id(kind, login),
        "avatar_url": f"{web_root(base)}/avatars/{login}",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{web_root(base)}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "site_admin": False,
    }


def org_owner(base: str, org: Org) -> Json:
    return user(base, org.login, org.id, "Organization")


def organization(base: str, org: Org) -> Json:
    url = f"{base}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("Organization", org.login),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"{web_root(base)}/avatars/{org.login}",
        "description": None,
        "name": org.login,
        "company": None,
        "blog": None,
        "location": None,
        "email": None,
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": len(org.repos),
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{web_root(base)}/{org.login}",
        "created_at": iso(1704067200),
        "updated_at": iso(1704067200),
        "archived_at": None,
        "type": "Organization",
        "total_private_repos": 0,
        "owned_private_repos": 0,
        "private_gists": 0,
        "disk_usage": 0,
        "collaborators": 0,
        "billing_email": None,
        "default_repository_permission": "read",
        "members_can_create_repositories": True,
        "two_factor_requirement_enabled": False,
        "members_allowed_repository_creation_type": "all",
        "members_can_create_public_repositories": True,
        "members_can_create_private_repositories": True,
        "members_can_create_internal_repositories": False,
        "members_can_create_pages": True,
        "members_can_create_public_pages": True,
        "members_can_create_private_pages": True,
        "members_can_fork_private_repositories": False,
        "web_commit_signoff_required": False,
        "plan": {"name": "free", "space": 976562499, "private_repos": 10000, "filled_seats": 1, "seats": 1},
    }


_REPO_TEMPLATES = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


def repository(base: str, store: Store, repo: Repo, *, full: bool = True, admin: bool = True) -> Json:
    org = store.orgs[repo.org]
    url = f"{base}/repos/{repo.full_name}"
    html = f"{web_root(base)}/{repo.full_name}"
    private = repo.meta.visibility != "public"
    data: Json = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.full_name),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": private,
        "owner": org_owner(base, org),
        "html_url": html,
        "description": repo.meta.description,
        "fork": repo.meta.fork,
        "url": url,
    }
    data.update({key: url + suffix for key, suffix in _REPO_TEMPLATES.items()})
    data.update(
        {
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.pushed_at),
            "pushed_at": iso(repo.pushed_at),
            "git_url": f"{web_root(base).replace('http', 'git', 1)}/{repo.full_name}.git",
            "ssh_url": f"git@{web_root(base).split('://', 1)[-1]}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": repo.meta.archived,
            "disabled": False,
            "open_issues_count": sum(1 for p in repo.pulls.values() if p.state == "open"),
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": list(repo.meta.topics),
            "visibility": repo.meta.visibility,
            "forks": 0,
            "open_issues": sum(1 for p in repo.pulls.values() if p.state == "open"),
            "watchers": 0,
            "default_branch": repo.default_branch,
            "permissions": {"admin": admin, "maintain": admin, "push": True, "triage": True, "pull": True},
        }
    )
    if full:
        data.update(
            {
                "temp_clone_token": "",
                "allow_squash_merge": "squash" in repo.meta.merge_methods,
                "allow_merge_commit": "merge" in repo.meta.merge_methods,
                "allow_rebase_merge": "rebase" in repo.meta.merge_methods,
                "allow_auto_merge": repo.meta.allow_auto_merge,
                "delete_branch_on_merge": False,
                "allow_update_branch": False,
                "use_squash_pr_title_as_default": False,
                "squash_merge_commit_message": "COMMIT_MESSAGES",
                "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                "merge_commit_message": "PR_TITLE",
                "merge_commit_title": "MERGE_MESSAGE",
                "organization": org_owner(base, org),
                "network_count": 0,
                "subscribers_count": 0,
            }
        )
    return data


def git_person(signature: Signature) -> Json:
    return {"name": signature.name, "email": signature.email, "date": iso(signature.timestamp)}


def git_commit(base: str, repo: Repo, commit: Commit) -> Json:
    """The shape of `GET /git/commits/{sha}` and the `commit` of a contents write."""
    url = f"{base}/repos/{repo.full_name}"
    return {
        "sha": commit.sha,
        "node_id": node_id("Commit", f"{repo.full_name}@{commit.sha}"),
        "url": f"{url}/git/commits/{commit.sha}",
        "html_url": f"{web_root(base)}/{repo.full_name}/commit/{commit.sha}",
        "author": git_person(commit.author),
        "committer": git_person(commit.committer),
        "tree": {"sha": commit.tree, "url": f"{url}/git/trees/{commit.tree}"},
        "message": commit.message,
        "parents": [
            {"sha": p, "url": f"{url}/git/commits/{p}", "html_url": f"{web_root(base)}/{repo.full_name}/commit/{p}"}
            for p in commit.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def full_commit(base: str, repo: Repo, commit: Commit) -> Json:
    """The shape of `GET /repos/{o}/{r}/commits/{ref}` (files omitted unless asked)."""
    url = f"{base}/repos/{repo.full_name}"
    inner = git_commit(base, repo, commit)
    return {
        "sha": commit.sha,
        "node_id": inner["node_id"],
        "commit": {
            "author": inner["author"],
            "committer": inner["committer"],
            "message": commit.message,
            "tree": inner["tree"],
            "url": f"{url}/git/commits/{commit.sha}",
            "comment_count": 0,
            "verification": inner["verification"],
        },
        "url": f"{url}/commits/{commit.sha}",
        "html_url": inner["html_url"],
        "comments_url": f"{url}/commits/{commit.sha}/comments",
        "author": user(base),
        "committer": user(base),
        "parents": [
            {"sha": p, "url": f"{url}/commits/{p}", "html_url": f"{web_root(base)}/{repo.full_name}/commit/{p}"}
            for p in commit.parents
        ],
    }


def content_entry(base: str, repo: Repo, path: str, entry: TreeEntry, *, size: int, ref: str) -> Json:
    url = f"{base}/repos/{repo.full_name}"
    kind = "dir" if entry.kind == "tree" else "file"
    self_url = f"{url}/contents/{path}?ref={ref}"
    git_url = f"{url}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
    html_url = f"{web_root(base)}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": entry.sha,
        "size": size,
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": None if kind == "dir" else f"{web_root(base)}/raw/{repo.full_name}/{ref}/{path}",
        "type": kind,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


def blob(base: str, repo: Repo, sha: str, data: bytes) -> Json:
    return {
        "sha": sha,
        "node_id": node_id("Blob", f"{repo.full_name}@{sha}"),
        "size": len(data),
        "url": f"{base}/repos/{repo.full_name}/git/blobs/{sha}",
        "content": b64_lines(data),
        "encoding": "base64",
    }


def tree(base: str, repo: Repo, sha: str, recursive: bool) -> Json:
    url = f"{base}/repos/{repo.full_name}/git"
    entries: list[Json] = []

    def walk(tree_sha: str, prefix: str) -> None:
        for entry in repo.git.trees[tree_sha]:
            item: Json = {"path": prefix + entry.name, "mode": entry.mode, "type": entry.kind, "sha": entry.sha}
            if entry.kind == "blob":
                item["size"] = len(repo.git.blobs[entry.sha])
                item["url"] = f"{url}/blobs/{entry.sha}"
            else:
                item["url"] = f"{url}/trees/{entry.sha}"
            entries.append(item)
            if recursive and entry.kind == "tree":
                walk(entry.sha, prefix + entry.name + "/")

    walk(sha, "")
    return {"sha": sha, "url": f"{url}/trees/{sha}", "tree": entries, "truncated": False}


def ref(base: str, repo: Repo, name: str, sha: str) -> Json:
    url = f"{base}/repos/{repo.full_name}/git"
    kind = repo.git.kind(sha) or "commit"
    return {
        "ref": name,
        "node_id": node_id("Ref", f"{repo.full_name}:{name}"),
        "url": f"{url}/{name}",
        "object": {"sha": sha, "type": kind, "url": f"{url}/{kind}s/{sha}"},
    }


def protection(base: str, store: Store, repo: Repo, branch: str, rule: Protection) -> Json:
    url = f"{base}/repos/{repo.full_name}/branches/{branch}/protection"
    data: Json = {"url": url}
    if rule.contexts or rule.strict:
        data["required_status_checks"] = {
            "url": f"{url}/required_status_checks",
            "strict": rule.strict,
            "contexts": list(rule.contexts),
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": c, "app_id": None} for c in rule.contexts],
        }
    if rule.required_reviews:
        data["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": False,
            "require_code_owner_reviews": False,
            "require_last_push_approval": False,
            "required_approving_review_count": rule.required_reviews,
            "bypass_pull_request_allowances": _allowances(base, store, repo, rule.bypass_pull_requests),
        }
    if rule.restrictions is not None:
        data["restrictions"] = {
            "url": f"{url}/restrictions",
            "users_url": f"{url}/restrictions/users",
            "teams_url": f"{url}/restrictions/teams",
            "apps_url": f"{url}/restrictions/apps",
            **_allowances(base, store, repo, rule.restrictions),
        }
    data.update(
        {
            "required_signatures": {"url": f"{url}/required_signatures", "enabled": False},
            "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": rule.enforce_admins},
            "required_linear_history": {"enabled": False},
            "allow_force_pushes": {"enabled": False},
            "allow_deletions": {"enabled": False},
            "block_creations": {"enabled": False},
            "required_conversation_resolution": {"enabled": False},
            "lock_branch": {"enabled": False},
            "allow_fork_syncing": {"enabled": False},
        }
    )
    return data


def _allowances(base: str, store: Store, repo: Repo, allowed: Allowances) -> Json:
    from migrator.sandbox import apps

    by_name = {a.slug.lower(): a for a in store.apps.values()} | {str(a.id): a for a in store.apps.values()}
    found = [by_name[name.lower()] for name in allowed.apps if name.lower() in by_name]
    return {
        "users": [user(base, login, store.account_id("User", login)) for login in allowed.users],
        "teams": [team(base, store, repo.org, slug) for slug in allowed.teams],
        "apps": [apps.app_json(base, store, app) for app in found],
    }


def branch(base: str, repo: Repo, name: str, sha: str, *, detailed: bool) -> Json:
    rule = repo.protection_for(name)
    data: Json = {"name": name}
    commit = repo.commit(sha)
    if detailed:
        data["commit"] = full_commit(base, repo, commit)
        data["_links"] = {
            "self": f"{base}/repos/{repo.full_name}/branches/{name}",
            "html": f"{web_root(base)}/{repo.full_name}/tree/{name}",
        }
    else:
        data["commit"] = {"sha": sha, "url": f"{base}/repos/{repo.full_name}/commits/{sha}"}
    data["protected"] = rule is not None
    data["protection"] = {
        "enabled": rule is not None,
        "required_status_checks": {
            "enforcement_level": "everyone" if rule and rule.contexts else "off",
            "contexts": list(rule.contexts) if rule else [],
            "checks": [{"context": c, "app_id": None} for c in (rule.contexts if rule else ())],
        },
    }
    data["protection_url"] = f"{base}/repos/{repo.full_name}/branches/{name}/protection"
    return data


def label(base: str, repo: Repo, item: Label) -> Json:
    return {
        "id": item.id,
        "node_id": node_id("Label", f"{repo.full_name}:{item.id}"),
        "url": f"{base}/repos/{repo.full_name}/labels/{item.name}",
        "name": item.name,
        "color": item.color,
        "default": False,
        "description": item.description,
    }


def issue_comment(base: str, repo: Repo, item: Comment) -> Json:
    url = f"{base}/repos/{repo.full_name}"
    return {
        "url": f"{url}/issues/comments/{item.id}",
        "html_url": f"{web_root(base)}/{repo.full_name}/pull/{item.issue_number}#issuecomment-{item.id}",
        "issue_url": f"{url}/issues/{item.issue_number}",
        "id": item.id,
        "node_id": node_id("IssueComment", f"{repo.full_name}:{item.id}"),
        "user": user(base, item.user),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
        "author_association": "MEMBER",
        "body": item.body,
        "reactions": {
            "url": f"{url}/issues/comments/{item.id}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        },
        "performed_via_github_app": None,
    }


def _pr_side(base: str, store: Store, repo: Repo, branch_name: str, sha: str) -> Json:
    return {
        "label": f"{repo.org}:{branch_name}",
        "ref": branch_name,
        "sha": sha,
        "user": org_owner(base, store.orgs[repo.org]),
        "repo": repository(base, store, repo, full=False),
    }


def pull_request(base: str, store: Store, repo: Repo, pull: PullRequest) -> Json:
    url = f"{base}/repos/{repo.full_name}"
    html = f"{web_root(base)}/{repo.full_name}/pull/{pull.number}"
    head_sha = store.head_sha(repo, pull)
    base_sha = repo.branch_sha(pull.base_ref) or ""
    links = {
        "self": f"{url}/pulls/{pull.number}",
        "html": html,
        "issue": f"{url}/issues/{pull.number}",
        "comments": f"{url}/issues/{pull.number}/comments",
        "review_comments": f"{url}/pulls/{pull.number}/comments",
        "review_comment": f"{url}/pulls/comments{{/number}}",
        "commits": f"{url}/pulls/{pull.number}/commits",
        "statuses": f"{url}/statuses/{head_sha}",
    }
    mergeable = pull.state == "open" and mergeable_state(store, repo, pull) != "dirty"
    return {
        "url": links["self"],
        "id": pull.id,
        "node_id": node_id("PullRequest", f"{repo.full_name}#{pull.number}"),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": links["issue"],
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "user": user(base, pull.user),
        "body": pull.body,
        "created_at": iso(pull.created_at),
        "updated_at": iso(pull.updated_at),
        "closed_at": iso(pull.closed_at),
        "merged_at": iso(pull.merged_at),
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [user(base, u, store.account_id("User", u)) for u in pull.requested_reviewers],
        "requested_teams": [team(base, store, repo.org, slug) for slug in pull.requested_teams],
        "labels": [label(base, repo, store.label(repo, name)) for name in pull.labels],
        "milestone": None,
        "draft": pull.draft,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "head": _pr_side(base, store, repo, pull.head_ref, head_sha),
        "base": _pr_side(base, store, repo, pull.base_ref, base_sha),
        "_links": {key: {"href": value} for key, value in links.items()},
        "author_association": "MEMBER",
        "auto_merge": _auto_merge(base, store, pull),
        "active_lock_reason": None,
        "merged": pull.merged,
        "mergeable": mergeable if pull.state == "open" else None,
        "rebaseable": mergeable if pull.state == "open" else None,
        "mergeable_state": mergeable_state(store, repo, pull) if pull.state == "open" else "unknown",
        "merged_by": user(base) if pull.merged else None,
        "comments": sum(1 for c in repo.comments if c.issue_number == pull.number),
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": _commit_count(repo, pull, head_sha, base_sha),
        "additions": 0,
        "deletions": 0,
        "changed_files": _changed_files(repo, head_sha, base_sha),
    }


def team(base: str, store: Store, org: str, slug: str) -> Json:
    """The short team shape of `requested_teams` (the sandbox models teams by slug only)."""
    team_id = store.account_id("Team", f"{org}/{slug}")
    url = f"{base}/organizations/{store.orgs[org].id}/team/{team_id}"
    return {
        "id": team_id,
        "node_id": node_id("Team", f"{org}/{slug}"),
        "url": url,
        "html_url": f"{web_root(base)}/orgs/{org}/teams/{slug}",
        "name": slug,
        "slug": slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{url}/members{{/member}}",
        "repositories_url": f"{url}/repos",
        "parent": None,
        "type": "organization",
    }


def _commit_count(repo: Repo, pull: PullRequest, head_sha: str, base_sha: str) -> int:
    if not head_sha or head_sha not in repo.git.commits:
        return 0
    behind = set(repo.git.ancestors(base_sha)) if base_sha else set()
    return sum(1 for sha in repo.git.ancestors(head_sha) if sha not in behind)


def _changed_files(repo: Repo, head_sha: str, base_sha: str) -> int:
    if not head_sha or not base_sha:
        return 0
    merge_base = repo.git.merge_base(head_sha, base_sha)
    before = repo.files_at(merge_base) if merge_base else {}
    after = repo.files_at(head_sha)
    return sum(1 for path in set(before) | set(after) if before.get(path) != after.get(path))


def mergeable_state(store: Store, repo: Repo, pull: PullRequest) -> str:
    from migrator.sandbox.merging import merge_state_status

    if not store.head_sha(repo, pull) or not repo.branch_sha(pull.base_ref):
        return "unknown"
    return merge_state_status(store, repo, pull).lower()


def _auto_merge(base: str, store: Store, pull: PullRequest) -> Json | None:
    request = pull.auto_merge
    if request is None or request.queued:
        return None
    return {
        "enabled_by": user(base, request.enabled_by, store.account_id("User", request.enabled_by)),
        "merge_method": request.method,
        "commit_title": "",
        "commit_message": "",
    }


def issue(base: str, store: Store, repo: Repo, pull: PullRequest) -> Json:
    url = f"{base}/repos/{repo.full_name}"
    return {
        "url": f"{url}/issues/{pull.number}",
        "repository_url": url,
        "labels_url": f"{url}/issues/{pull.number}/labels{{/name}}",
        "comments_url": f"{url}/issues/{pull.number}/comments",
        "events_url": f"{url}/issues/{pull.number}/events",
        "html_url": f"{web_root(base)}/{repo.full_name}/pull/{pull.number}",
        "id": pull.id,
        "node_id": node_id("PullRequest", f"{repo.full_name}#{pull.number}"),
        "number": pull.number,
        "title": pull.title,
        "user": user(base, pull.user),
        "labels": [label(base, repo, store.label(repo, name)) for name in pull.labels],
        "state": pull.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": sum(1 for c in repo.comments if c.issue_number == pull.number),
        "created_at": iso(pull.created_at),
        "updated_at": iso(pull.updated_at),
        "closed_at": iso(pull.closed_at),
        "author_association": "MEMBER",
        "active_lock_reason": None,
        "draft": pull.draft,
        "pull_request": {
            "url": f"{url}/pulls/{pull.number}",
            "html_url": f"{web_root(base)}/{repo.full_name}/pull/{pull.number}",
            "diff_url": f"{web_root(base)}/{repo.full_name}/pull/{pull.number}.diff",
            "patch_url": f"{web_root(base)}/{repo.full_name}/pull/{pull.number}.patch",
            "merged_at": iso(pull.merged_at),
        },
        "body": pull.body,
        "state_reason": None,
    }


def status(base: str, repo: Repo, item: Status) -> Json:
    return {
        "url": f"{base}/repos/{repo.full_name}/statuses/{item.sha}",
        "avatar_url": f"{web_root(base)}/avatars/{SANDBOX_USER}",
        "id": item.id,
        "node_id": node_id("StatusContext", f"{repo.full_name}:{item.id}"),
        "state": item.state,
        "description": item.description,
        "target_url": item.target_url,
        "context": item.context,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
        "creator": user(base),
    }


def check_run(base: str, repo: Repo, item: CheckRun) -> Json:
    url = f"{base}/repos/{repo.full_name}/check-runs/{item.id}"
    return {
        "id": item.id,
        "node_id": node_id("CheckRun", f"{repo.full_name}:{item.id}"),
        "head_sha": item.head_sha,
        "external_id": item.external_id,
        "url": url,
        "html_url": f"{web_root(base)}/{repo.full_name}/runs/{item.id}",
        "details_url": item.details_url,
        "status": item.status,
        "conclusion": item.conclusion,
        "started_at": iso(item.started_at),
        "completed_at": iso(item.completed_at),
        "output": {
            "title": item.title,
            "summary": item.summary,
            "text": item.text,
            "annotations_count": 0,
            "annotations_url": f"{url}/annotations",
        },
        "name": item.name,
        "check_suite": {"id": item.suite_id or item.id},
        "app": {
            "id": 15368 if item.app_slug == "github-actions" else 1,
            "slug": item.app_slug,
            "node_id": node_id("App", item.app_slug),
            "owner": user(base),
            "name": "GitHub Actions" if item.app_slug == "github-actions" else "sandbox",
            "description": "",
            "external_url": web_root(base),
            "html_url": f"{web_root(base)}/apps/{item.app_slug}",
            "created_at": iso(1704067200),
            "updated_at": iso(1704067200),
            "permissions": {},
            "events": [],
        },
        "pull_requests": [],
    }
