"""The GraphQL documents the adapter sends. A test validates each against GitHub's vendored schema."""

from __future__ import annotations

# One query per page of repositories: metadata, default branch protection, every file directly in
# .github/workflows, and the companion files the rules read. Cost: (1 + page size) / 100 points,
# so one point for a page of up to 99 repositories.
REPOSITORIES = """
query MigratorRepositories($login: String!, $first: Int!, $after: String) {
  organization(login: $login) {
    repositories(first: $first, after: $after, orderBy: {field: NAME, direction: ASC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        nameWithOwner
        isArchived
        isDisabled
        isFork
        isEmpty
        visibility
        repositoryTopics(first: 20) { nodes { topic { name } } }
        defaultBranchRef {
          name
          target { oid }
          branchProtectionRule {
            isAdminEnforced
            requiredStatusCheckContexts
            requiresApprovingReviews
            requiredApprovingReviewCount
          }
        }
        workflows: object(expression: "HEAD:.github/workflows") {
          ... on Tree { entries { name type mode oid object { ...BlobText } } }
        }
        readme: object(expression: "HEAD:README.md") { ...BlobText }
        githubReadme: object(expression: "HEAD:.github/README.md") { ...BlobText }
        packageJson: object(expression: "HEAD:package.json") { ...BlobText }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}

fragment BlobText on GitObject {
  ... on Blob { oid byteSize isBinary isTruncated text }
}
"""

# `first: 1` because a connection needs a bound; only totalCount is read.
REPOSITORY_COUNT = """
query MigratorRepositoryCount($login: String!) {
  organization(login: $login) { repositories(first: 1) { totalCount } }
  rateLimit { cost remaining resetAt }
}
"""

ALL = {"MigratorRepositories": REPOSITORIES, "MigratorRepositoryCount": REPOSITORY_COUNT}
