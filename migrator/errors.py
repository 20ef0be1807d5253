"""The error hierarchy. The CLI maps these to exit codes in one place (`migrator.cli`).

Every message is one line and says what to do next.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1  # check found problems; apply had a partial failure
EXIT_USAGE = 2  # bad arguments or bad input: nothing was done
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class MigratorError(Exception):
    """An expected failure with a one-line, actionable message."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(MigratorError):
    """The command line or an input file is wrong."""


class InputError(MigratorError):
    """An input (a checkout, a plan, a seed) cannot be read or is invalid."""


class AuthError(MigratorError):
    """The token is missing, wrong, or lacks a permission."""


class RemoteError(MigratorError):
    """GitHub (or the sandbox) answered in a way we cannot recover from."""


class Interrupted(MigratorError):
    """Ctrl-C during a run that writes: the message says what was done and how to resume."""

    exit_code = EXIT_INTERRUPTED
