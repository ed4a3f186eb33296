"""Undo what the Python SDK's dynamic-provider serialization leaves behind in `pickle`.

`pulumi.dynamic.Resource.__init__` pickles its provider with `serialize_provider`, which
swaps `pickle.Pickler` for the pure-Python `pickle._Pickler` and wraps
`_Pickler._batch_setitems` (to sort dict items) and `_Pickler.save_dict`, but restores only
`pickle.Pickler` (SDK 3.272.0). Every dynamic resource therefore wraps the previous
wrapper once more; after about 320 of them in one program (three or four per plugin: a
stack of ~100 plugins) pickling fails with `RecursionError`. Each of our dynamic resources
is created inside `pickle_state_restored()`, so every serialization wraps the original
methods exactly once and nothing accumulates.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["pickle_state_restored"]

_PATCHED = ("_batch_setitems", "save_dict")


@contextmanager
def pickle_state_restored() -> Iterator[None]:
    """Run the block, then put back the `pickle._Pickler` methods the SDK overwrites."""
    pickler = pickle._Pickler
    saved = {name: pickler.__dict__[name] for name in _PATCHED if name in pickler.__dict__}
    try:
        yield
    finally:
        for name in _PATCHED:
            if name in saved:
                setattr(pickler, name, saved[name])
