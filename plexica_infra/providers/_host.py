"""How our errors reach the user from Pulumi's dynamic provider host.

The host (`python -m pulumi.dynamic`, started by the engine) answers every exception
of a provider method with `traceback.format_exc()`, and the engine prints that text.
Our `PlexicaError`s already name the plugin, the step and the Core API's answer, so a
traceback there only buries the one line the user needs.

`reported` (applied to every method of our providers by `ProviderBase`) uses what the
interpreter documents for this, in the host only: `sys.tracebacklimit = 0` prints an
exception as its type and message, without frames; our errors leave the provider with
their chain cut (`raise ... from None`), so that is all the engine shows; any other
exception (a bug) carries its full traceback as a note (PEP 678), which is printed
after that line, so nothing is lost. Outside the host (tests, the program) nothing
changes.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from plexica_infra.errors import PlexicaError

__all__ = ["DYNAMIC_HOST_MODULE", "in_dynamic_host", "reported"]

#: The module the engine runs as `__main__` to host Python dynamic providers.
DYNAMIC_HOST_MODULE = "pulumi.dynamic.__main__"
#: Frames kept in the note of an unexpected error (an explicit limit: the host's is 0).
_BUG_FRAMES = 200
_Method = TypeVar("_Method", bound=Callable[..., Any])


def in_dynamic_host() -> bool:
    main = sys.modules.get("__main__")
    return getattr(getattr(main, "__spec__", None), "name", "") == DYNAMIC_HOST_MODULE


def reported(method: _Method) -> _Method:
    """`method` whose errors the dynamic host reports as our one line (bugs: with their traceback)."""
    if getattr(method, "__reported__", False):
        return method

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except PlexicaError as exc:
            if not in_dynamic_host():
                raise
            sys.tracebacklimit = 0
            raise exc.with_traceback(None) from None
        except Exception as exc:
            if in_dynamic_host() and not getattr(exc, "__plexica_noted__", False):
                exc.add_note("".join(traceback.format_exception(exc, limit=_BUG_FRAMES)).rstrip())
                exc.__plexica_noted__ = True  # type: ignore[attr-defined]
                sys.tracebacklimit = 0
            raise

    call.__reported__ = True  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]
