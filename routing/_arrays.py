"""Vectorised array helpers shared by graph assembly, snapping and routes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ranges"]


def ranges(
    starts: NDArray[np.int64], lens: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Ranges `starts[i] .. starts[i] + lens[i]` laid end to end: their offsets (CSR `ptr`)
    and every index in them, in one vectorised pass."""
    ptr = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    return ptr, np.arange(ptr[-1]) - np.repeat(ptr[:-1] - starts, lens)
