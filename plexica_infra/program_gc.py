"""Garbage-collector settings for the Pulumi program's process, and only for it.

The program builds thousands of small objects per plugin (pydantic models, Outputs,
resource options, protobuf structs). With CPython's default gen0 threshold (700
allocations) the collector runs every few hundred allocations and, each time it reaches
the older generations, walks the whole start-up heap the language host left behind
(`pulumi`, grpc, protobuf, pydantic: about a million objects that live until the
process ends). `tune_program_gc()` moves that heap out of the collector's reach
(`gc.freeze()`) and collects gen0 less often. Cycles are still collected: nothing is
disabled, and the program's process ends with the run. `__main__.py` calls it right
after its imports (the program's modules are start-up heap too); the emulator, the CLI
and the tests keep the interpreter's defaults.
Measured in the README's "Performance" section (`bench/bench_program_gc.py`).
"""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "tune_program_gc"]

#: Allocations between gen0 collections (CPython's default: 700).
GEN0_THRESHOLD = 50_000


def tune_program_gc() -> None:
    """Freeze what is alive now (the start-up heap) and raise the gen0 threshold."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
