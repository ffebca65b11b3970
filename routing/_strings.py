"""A compact table of strings stored as one UTF-8 blob plus offsets.

Street names are decoded only when a route or a map asks for them, so loading
a cached graph stays a handful of array copies however many names it has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

__all__ = ["StringTable"]


class StringTable:
    __slots__ = ("blob", "ptr")

    def __init__(self, blob: NDArray[np.uint8], ptr: NDArray[np.int64]) -> None:
        self.blob = blob
        self.ptr = ptr

    @classmethod
    def from_strings(cls, strings: Iterable[str]) -> StringTable:
        encoded = [s.encode("utf-8") for s in strings]
        ptr = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=ptr[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
        return cls(blob, ptr)

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def __getitem__(self, i: int) -> str:
        return self.blob[self.ptr[i] : self.ptr[i + 1]].tobytes().decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StringTable):
            return NotImplemented
        return np.array_equal(self.blob, other.blob) and np.array_equal(self.ptr, other.ptr)

    __hash__ = None  # type: ignore[assignment]
