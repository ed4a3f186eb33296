"""Exceptions raised by plexica-infra.

Every error a user can cause derives from one base, so entry points catch a
single type and print one clear line instead of a traceback::

    PlexicaError
    ├── ManifestError        a plugin manifest (or the plugins folder) is invalid
    ├── StackConfigError     a `plexica:*` stack config key is missing or invalid
    └── QuantityError        a CPU or memory quantity is not in an accepted format
                              (also a ValueError, so pydantic reports it per field)
"""

from __future__ import annotations

__all__ = ["ManifestError", "PlexicaError", "QuantityError", "StackConfigError"]


class PlexicaError(Exception):
    """Base of every error that plexica-infra reports to a user."""


class ManifestError(PlexicaError):
    """One or more plugin manifests are invalid; the message lists every problem."""


class StackConfigError(PlexicaError):
    """A stack config key is missing or invalid; the message names the key and the fix."""


class QuantityError(PlexicaError, ValueError):
    """A CPU or memory quantity is malformed or out of range."""
