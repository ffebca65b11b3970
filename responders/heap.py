"""The garbage collector and a long-running service.

A full collection walks every container object the process holds. After start-up that is
some 200,000 objects which live as long as the process (modules, schemas, the walking
graph), re-scanned on every full collection: pauses of 80-140 ms, which were the p99 of a
dispatch (bench/bench_dispatch.py). Frozen, they are left out of collections; what is
allocated later is collected as before.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_long_lived"]


def freeze_long_lived() -> None:
    """Call once start-up is done: collect what start-up left behind, freeze the rest."""
    gc.collect()
    gc.freeze()
