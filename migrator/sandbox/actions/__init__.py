"""The sandbox's model of GitHub Actions, git and semantic-release (see README.md beside this file).

It is written from their documentation only and never imports migrator's workflow, analysis, rules or checker
packages (tests/sandbox/test_import_boundary.py), so that it can prove them wrong. Nothing is imported here:
`migrator.sandbox.store` imports `actions.model`, and the engine imports the store.
"""
