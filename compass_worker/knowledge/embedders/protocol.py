"""The embedder protocol every implementation satisfies (one contract test suite runs against all)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

# The store's vector column is vector(384) (an HNSW index needs a fixed width). MiniLM's native width;
# a remote endpoint is asked for 384 dimensions and refused if it returns anything else.
EMBEDDING_DIMENSIONS = 384

Vector = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of EMBEDDING_DIMENSIONS.

    `model_id` is stored beside every vector: vectors of different models are never compared.
    """

    @property
    def model_id(self) -> str: ...

    async def embed(self, texts: Sequence[str]) -> list[Vector]: ...


def normalize(rows: npt.NDArray[np.float32]) -> list[Vector]:
    """L2-normalise each row (cosine distance then equals 1 - dot product)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = (rows / np.clip(norms, 1e-12, None)).astype(np.float32)
    return [unit[i] for i in range(unit.shape[0])]
