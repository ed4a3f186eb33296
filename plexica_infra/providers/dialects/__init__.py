"""Core API dialects: one small adapter per Core API, all behind `Dialect`.

`guide` (the deployment guide's contract; the default) and `plexica-v1` (the real
`apps/core-api`). Pick one per stack with `plexica:coreApiDialect`.
"""

from plexica_infra.contract import DEFAULT_DIALECT, DIALECTS, DialectName
from plexica_infra.providers.dialects._base import Dialect, PluginView, ServiceView, answer_problem
from plexica_infra.providers.dialects.guide import GuideDialect
from plexica_infra.providers.dialects.plexica_v1 import PlexicaV1Dialect

__all__ = [
    "DEFAULT_DIALECT",
    "DIALECTS",
    "Dialect",
    "DialectName",
    "GuideDialect",
    "PlexicaV1Dialect",
    "PluginView",
    "ServiceView",
    "answer_problem",
    "dialect_class",
]

_BY_NAME: dict[str, type[Dialect]] = {GuideDialect.name: GuideDialect, PlexicaV1Dialect.name: PlexicaV1Dialect}


def dialect_class(name: str) -> type[Dialect]:
    """The dialect called `name`; ValueError naming the accepted ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown Core API dialect {name!r}; accepted: {', '.join(DIALECTS)}") from None
