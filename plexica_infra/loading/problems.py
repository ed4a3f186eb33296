"""`Problem`: one bad thing in one file, printed as `<file>: <json-pointer>: <message>`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from plexica_infra._validators import printable

__all__ = ["Problem", "display_path", "json_pointer"]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        # Escaped: a folder or key named `x\n::error ...` must not start a second line in a CI log.
        return printable(f"{self.file}: {self.pointer or '/'}: {self.message}")

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "pointer": self.pointer or "/", "message": self.message}


def display_path(path: Path) -> str:
    """How a manifest's path is printed in a problem line (the one rule, for every caller)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def json_pointer(loc: Iterable[object]) -> str:
    """The RFC 6901 pointer of a location: `("api", "a/b")` -> `/api/a~1b`."""
    return "".join(f"/{_escape(part)}" for part in loc)
