"""A deterministic, dependency-free embedder for unit tests: hashed word and bigram counts.

Texts that share words get similar vectors, nothing more — no synonyms, no semantics. Never use it
for real memory: it exists so that tests of the store do not depend on a model.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence

import numpy as np

from compass_worker.knowledge.embedders.protocol import EMBEDDING_DIMENSIONS, Vector, normalize

_WORD = re.compile(r"[a-z0-9_]+(?:[-.][a-z0-9_]+)*")


class HashingEmbedder:
    model_id = "hashing-v1"

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        rows = np.zeros((len(texts), EMBEDDING_DIMENSIONS), dtype=np.float32)
        for i, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for token in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % EMBEDDING_DIMENSIONS
                sign = 1.0 if digest[4] & 1 else -1.0
                rows[i, bucket] += sign
            if not words:
                rows[i, 0] = 1.0  # an empty text still gets a valid unit vector
        return normalize(rows)
