"""The GraphQL documents the adapter sends. A test validates each against GitHub's vendored schema."""

from __future__ import annotations

# What the planner reads of one repository: metadata, default branch protection, every file directly in
# .github/workflows, and the companion files the rules read.
REPOSITORY_FIELDS = """
fragment MigratorRepository on Repository {
  nameWithOwner
  isArchived
  isDisabled
  isFork
  isEmpty
  visibility
  repositoryTopics(first: 20) { nodes { topic { name } } }
  defaultBranchRef {
    name
    target {
      oid
      ... on Commit {
        checkSuites(last: 3) {
          nodes {
            status
            conclusion
            workflowRun { runNumber url createdAt file { path } }
            checkRuns(first: 1, filterBy: {conclusions: [FAILURE]}) { nodes { name } }
          }
        }
      }
    }
    branchProtectionRule {
      isAdminEnforced
      requiredStatusCheckContexts
      requiresApprovingReviews
      requiredApprovingReviewCount
      restrictsPushes
      bypassPullRequestAllowances(first: 10) { totalCount nodes { actor { ...AllowedActor } } }
      pushAllowances(first: 10) { totalCount nodes { actor { ...AllowedActor } } }
    }
  }
  workflows: object(expression: "HEAD:.github/workflows") {
    __typename
    ... on Tree { entries { name type mode oid object { ...BlobText } } }
  }
  readme: object(expression: "HEAD:README.md") { ...BlobText }
  githubReadme: object(expression: "HEAD:.github/README.md") { ...BlobText }
  packageJson: object(expression: "HEAD:package.json") { ...BlobText }
  latestRelease { tagName createdAt }
  campaignBranch: ref(qualifiedName: $campaignRef) {
    target { ... on Commit { oid message parents(first: 2) { nodes { oid } } } }
  }
  campaignPulls: pullRequests(headRefName: $campaignBranch, first: 5, states: [OPEN, CLOSED, MERGED],
                              orderBy: {field: CREATED_AT, direction: DESC}) {
    nodes { number url state mergeable headRefOid baseRefName headRepository { nameWithOwner } }
  }
  rulesets(first: 10, includeParents: true, targets: [BRANCH, TAG]) {
    nodes {
      databaseId
      name
      enforcement
      target
      source { __typename ... on Repository { nameWithOwner } ... on Organization { login } }
      conditions { refName { include exclude } }
      rules(first: 10) {
        nodes {
          type
          parameters {
            __typename
            ... on PullRequestParameters { requiredApprovingReviewCount }
            ... on RequiredStatusChecksParameters { doNotEnforceOnCreate requiredStatusChecks { context } }
          }
        }
      }
      bypassActors(first: 10) {
        totalCount
        nodes {
          bypassMode
          organizationAdmin
          deployKey
          repositoryRoleName
          actor { __typename ... on App { databaseId slug } ... on Team { slug } }
        }
      }
    }
  }
}

fragment AllowedActor on BranchActorAllowanceActor {
  __typename ... on App { databaseId slug } ... on Team { slug } ... on User { login }
}

fragment BlobText on GitObject {
  ... on Blob { oid byteSize isBinary isTruncated text }
}
"""

# One query per page of repositories. Cost, by GitHub's rule: (1 + 2 x page size + 3 x page size + 21 x page
# size + 2 x page size + 2 x page size) / 100 points: the page, each repository's topics and head-commit check
# suites (last 3), each suite's first failing check run (the evidence of a broken release), its rulesets (first
# 10) with each ruleset's rules and bypass actors (one request per ruleset each: 1 + 10 + 10), the campaign's
# branch head's parents and the PRs from that branch (first 5), and the classic protection's bypass and push
# allowances (first 10 each). 15 points for a page of 50 (14 before the allowances, 13 before campaigns), 30 for
# 99 (28 before): the rulesets cost four times the rest, and still leave 2,000 repositories at about 600 points
# of 5,000.
REPOSITORIES = (
    """
query MigratorRepositories($login: String!, $first: Int!, $after: String, $campaignRef: String!,
                           $campaignBranch: String!) {
  organization(login: $login) {
    repositories(first: $first, after: $after, orderBy: {field: NAME, direction: ASC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...MigratorRepository }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""
    + REPOSITORY_FIELDS
)


def campaign_variables(branch: str | None) -> dict[str, str]:
    """The page query's campaign variables. Without a campaign, a ref name git refuses (a trailing `/`), so
    GitHub finds nothing."""
    name = branch or "migrator/"
    return {"campaignRef": "refs/heads/" + name, "campaignBranch": name}


# A shard's first pass: every name and default branch, 100 a page, no contents. The shard's own
# repositories are then read by name (`repositories_named`).
REPOSITORY_NAMES = """
query MigratorRepositoryNames($login: String!, $first: Int!, $after: String) {
  organization(login: $login) {
    repositories(first: $first, after: $after, orderBy: {field: NAME, direction: ASC}) {
      pageInfo { hasNextPage endCursor }
      nodes { nameWithOwner defaultBranchRef { name } }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""


def repositories_named(count: int) -> str:
    """`count` repositories of one owner by name: `r0`, `r1`, ... from variables `$owner`, `$n0`, `$n1`, ..."""
    declared = "".join(f", $n{i}: String!" for i in range(count))
    blocks = "".join(
        f"\n  r{i}: repository(owner: $owner, name: $n{i}) {{ ...MigratorRepository }}" for i in range(count)
    )
    return (
        f"\nquery MigratorRepositoriesNamed($owner: String!, $campaignRef: String!, $campaignBranch: String!"
        f"{declared}) {{{blocks}\n"
        "  rateLimit { cost remaining resetAt }\n}\n" + REPOSITORY_FIELDS
    )


# `first: 1` because a connection needs a bound; only totalCount is read.
REPOSITORY_COUNT = """
query MigratorRepositoryCount($login: String!) {
  organization(login: $login) { repositories(first: 1) { totalCount } }
  rateLimit { cost remaining resetAt }
}
"""

COMMIT_FIELDS = "oid message tree { oid } parents(first: 2) { nodes { oid } }"

PULL_FIELDS = (
    "number url state mergeable headRefName headRefOid baseRefName body mergeCommit { oid }"
    " headRepository { nameWithOwner }"
    " labels(first: 100) { nodes { name } }"
    " reviewRequests(first: 100) { nodes { requestedReviewer {"
    " __typename ... on User { login } ... on Team { slug } } } }"
)


def repo_state(path_count: int, dir_count: int | None = None) -> str:
    """What the executor reads before and after every write: the default branch head, the blob of each
    planned path there (`p0`, `p1`, ... from variables `$p0`, ...), the entries (names and modes) of the
    folders holding them (`d0`, ... from `$d0`, ...: a symbolic link is a blob too), our branch and its pull
    requests."""
    paths = [f"p{i}" for i in range(path_count)]
    dirs = [f"d{i}" for i in range(path_count if dir_count is None else dir_count)]
    declared = "".join(f", ${p}: String!" for p in paths + dirs)
    blobs = "".join(f"\n    {p}: object(expression: ${p}) {{ ... on Blob {{ oid }} }}" for p in paths)
    blobs += "".join(
        f"\n    {d}: object(expression: ${d}) {{ ... on Tree {{ entries {{ name mode }} }} }}" for d in dirs
    )
    return f"""
query MigratorRepoState($owner: String!, $name: String!, $ref: String!, $branch: String!{declared}) {{
  repository(owner: $owner, name: $name) {{
    defaultBranchRef {{ name target {{ oid }} }}{blobs}
    branch: ref(qualifiedName: $ref) {{ target {{ ... on Commit {{ {COMMIT_FIELDS} }} }} }}
    pullRequests(headRefName: $branch, first: 20, states: [OPEN, CLOSED, MERGED],
                 orderBy: {{field: CREATED_AT, direction: DESC}}) {{
      nodes {{ {PULL_FIELDS} }}
    }}
  }}
}}
"""


COMMIT = f"""
query MigratorCommit($owner: String!, $name: String!, $oid: GitObjectID!) {{
  repository(owner: $owner, name: $name) {{
    object(oid: $oid) {{ ... on Commit {{ {COMMIT_FIELDS} }} }}
  }}
}}
"""

# One request; `expectedHeadOid` makes GitHub refuse it (STALE_DATA) if the branch moved.
CREATE_COMMIT = """
mutation MigratorCommitFiles($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid } }
}
"""

# The check rollup is asked for under a second alias of the same pull request: a failure there
# (an app token without `checks: read`, a server that lacks the field) nulls only that alias, and
# the pull request's state still arrives.
PULL_STATUS_FIELDS = "number url state reviewDecision mergeable"
PULL_CHECK_FIELDS = """commits(last: 1) { nodes { commit { statusCheckRollup { state
        contexts(first: 50) { nodes { __typename ... on CheckRun { name conclusion status }
                                      ... on StatusContext { context state } } } } } } }"""


def pull_statuses(count: int) -> str:
    """`count` pull requests in one query: `r0`, `r1`, ... from variables `$o0`, `$n0`, `$k0`, ..."""
    declared = ", ".join(f"$o{i}: String!, $n{i}: String!, $k{i}: Int!" for i in range(count))
    blocks = "".join(
        f"""
  r{i}: repository(owner: $o{i}, name: $n{i}) {{
    pull: pullRequest(number: $k{i}) {{ {PULL_STATUS_FIELDS} }}
    checks: pullRequest(number: $k{i}) {{ {PULL_CHECK_FIELDS} }}
  }}"""
        for i in range(count)
    )
    return f"\nquery MigratorPullStatuses({declared}) {{{blocks}\n  rateLimit {{ cost remaining resetAt }}\n}}\n"


ALL = {
    "MigratorRepositories": REPOSITORIES,
    "MigratorRepositoryCount": REPOSITORY_COUNT,
    "MigratorRepositoryNames": REPOSITORY_NAMES,
    "MigratorCommit": COMMIT,
    "MigratorCommitFiles": CREATE_COMMIT,
}
# Documents built per call, at the sizes the tests validate.
BUILT = {
    "MigratorRepoState": repo_state,
    "MigratorPullStatuses": pull_statuses,
    "MigratorRepositoriesNamed": repositories_named,
}


# What `verify` reads of each merged fix, one alias per repository: the pull request (merge commit and time), the
# default branch's protection and newest commits, each with its check suites (one per workflow run: its file,
# event, conclusion, and the failing check run's title and summary, where the refusal text is), and the newest
# releases and tags with the runs on their commits. Cost: 31 points a query of 25 repositories (1,240 for 1,000).
SUITE_FIELDS = """checkSuites(first: 10) { nodes { status conclusion
        workflowRun { databaseId url event createdAt updatedAt file { path } }
        checkRuns(first: 10) { nodes { name status conclusion title summary } } } }"""
VERIFY_FIELDS = f"""
    pull: pullRequest(number: $k{{i}}) {{ url state mergedAt mergeCommit {{ oid committedDate {SUITE_FIELDS} }} }}
    defaultBranchRef {{ name
      branchProtectionRule {{ isAdminEnforced }}
      target {{ ... on Commit {{ history(first: 5) {{ nodes {{ oid committedDate {SUITE_FIELDS} }} }} }} }} }}
    releases(first: 5, orderBy: {{field: CREATED_AT, direction: DESC}}) {{ nodes {{ tagName url createdAt
      author {{ login }} tagCommit {{ oid {SUITE_FIELDS} }} }} }}
    tags: refs(refPrefix: "refs/tags/", first: 10, orderBy: {{field: TAG_COMMIT_DATE, direction: DESC}}) {{
      nodes {{ name target {{ oid }} }} }}"""


def verify_repositories(count: int) -> str:
    """`count` merged fixes in one query: `r0`, `r1`, ... from variables `$o0`, `$n0`, `$k0` (the PR number), ..."""
    declared = ", ".join(f"$o{i}: String!, $n{i}: String!, $k{i}: Int!" for i in range(count))
    blocks = "".join(
        f"\n  r{i}: repository(owner: $o{i}, name: $n{i}) {{{VERIFY_FIELDS.replace('{i}', str(i))}\n  }}"
        for i in range(count)
    )
    declared = f"({declared})" if declared else ""  # no repository: rateLimit alone (never sent)
    return f"\nquery MigratorVerify{declared} {{{blocks}\n  rateLimit {{ cost remaining resetAt }}\n}}\n"


BUILT["MigratorVerify"] = verify_repositories
