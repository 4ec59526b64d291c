"""The one exception tree of suture; each error carries the exit code the CLI uses."""

from __future__ import annotations


class SutureError(Exception):
    """Base of every error suture raises on purpose; `exit_code` is what the CLI exits with."""

    exit_code = 3

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(SutureError):
    """The user asked for something that cannot be done as asked (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """suture.yml (or an override) is invalid; the message names file, line and column."""


class NotARepositoryError(UsageError):
    """The working directory is not inside a git repository."""


class StoreError(SutureError):
    """The run database could not be opened, migrated, or written (exit 3)."""


class ToolError(SutureError):
    """A gate's tool is missing, crashed, or printed output that could not be parsed."""


class CheckFailed(SutureError):
    """A gate, check or verification failed (exit 1)."""

    exit_code = 1
