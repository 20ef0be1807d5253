"""What follows a request's pushes: GitHub closes the pull requests of a deleted head branch, and the Actions
model starts the workflows the pushes trigger.

A request's ref changes are collected while it is served (`store.REF_LOG`), then handed over here, still under
the store's lock, so a run has finished (and its check runs are there) before the write is answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from migrator.sandbox import merging, ops
from migrator.sandbox.actions.engine import Engine
from migrator.sandbox.store import HEADS, PULL_LOG, REF_LOG, RefChange, Repo, Store


@contextmanager
def recording(store: Store, engine: Engine, actor: str) -> Iterator[None]:
    """Collect the ref changes and opened pull requests of the block, then act on them."""
    refs, pulls = REF_LOG.set([]), PULL_LOG.set([])
    try:
        yield
    finally:
        changes, opened = REF_LOG.get() or [], PULL_LOG.get() or []
        REF_LOG.reset(refs)
        PULL_LOG.reset(pulls)
        after_writes(store, engine, changes, actor, opened)
        if store.auto_merging:  # checks or approvals may have let an auto-merge request through
            merging.settle(store, lambda merged, who: after_writes(store, engine, merged, who))


def after_writes(store: Store, engine: Engine, changes: list[RefChange], actor: str,
                 opened: list[tuple[Repo, int, str]] | None = None) -> None:
    close_pulls_of_deleted_heads(store, changes)
    try:
        engine.after_writes(changes, actor, opened or [])
    except Exception as error:  # the model must never turn a write GitHub accepted into an error
        engine.errors.append(f"{type(error).__name__}: {error}")


def close_pulls_of_deleted_heads(store: Store, changes: list[RefChange]) -> None:
    """GitHub closes an open pull request when its head branch is deleted (it can be reopened once restored)."""
    for change in changes:
        if change.after is not None or not change.ref.startswith(HEADS):
            continue
        branch = change.ref[len(HEADS) :]
        for pull in change.repo.pulls.values():
            if pull.state == "open" and pull.head_ref == branch:
                ops.close_pull(store, pull)
