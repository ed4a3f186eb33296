"""Exceptions raised by plexica-infra.

Every error a user can cause derives from one base, so entry points catch a
single type and print one clear line instead of a traceback::

    PlexicaError
    ├── ManifestError        a plugin manifest (or the plugins folder) is invalid
    ├── StackConfigError     `plexica:*` stack config keys are missing or invalid;
    │                         carries one `ConfigProblem` per bad key
    └── QuantityError        a CPU or memory quantity is not in an accepted format
                              (also a ValueError, so pydantic reports it per field)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConfigProblem", "ManifestError", "PlexicaError", "QuantityError", "StackConfigError"]


class PlexicaError(Exception):
    """Base of every error that plexica-infra reports to a user."""


class ManifestError(PlexicaError):
    """One or more plugin manifests are invalid; the message lists every problem."""


@dataclass(frozen=True)
class ConfigProblem:
    """One bad stack config key: where, which key, what was wrong, what is accepted.

    `key` is the full config key (`plexica:docker.host`), a JSON pointer into the stack
    file (`/config`) when the problem is the file's shape, or empty when it is the whole
    file. Printed as one line: `<source>: <key>: <problem>; <accepted>`.
    """

    source: str
    key: str
    problem: str
    accepted: str = ""

    @property
    def message(self) -> str:
        """What was wrong, then what is accepted."""
        return f"{self.problem}; {self.accepted}" if self.accepted else self.problem

    @property
    def pointer(self) -> str:
        """Where in the stack file: `/config/plexica:docker` for `plexica:docker.host`."""
        if not self.key or self.key.startswith("/"):
            return self.key
        return f"/config/{self.key.split('.')[0]}"

    @property
    def keyed_message(self) -> str:
        """The message led by the config key it is about (the pointer names only the top key)."""
        return f"{self.key}: {self.message}" if self.key and not self.key.startswith("/") else self.message

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.key, self.message) if part)


class StackConfigError(PlexicaError):
    """Stack config keys are missing or invalid; one line per problem, each naming the key and the fix."""

    def __init__(self, *problems: ConfigProblem | str) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(
            problem if isinstance(problem, ConfigProblem) else ConfigProblem("", "", problem) for problem in problems
        )
        super().__init__("\n".join(str(problem) for problem in self.problems))


class QuantityError(PlexicaError, ValueError):
    """A CPU or memory quantity is malformed or out of range."""
