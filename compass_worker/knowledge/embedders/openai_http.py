"""Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, LiteLLM).

Asks for EMBEDDING_DIMENSIONS dimensions (OpenAI's `dimensions` parameter) and refuses any other width,
because the store's index has a fixed width. Servers that ignore `dimensions` must serve a 384-d model.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np
from pydantic import BaseModel, SecretStr, ValidationError

from compass_worker.knowledge.embedders.protocol import EMBEDDING_DIMENSIONS, Vector, normalize
from compass_worker.knowledge.errors import EmbeddingError

_BATCH = 64


class _Item(BaseModel):
    index: int
    embedding: list[float]


class _Response(BaseModel):
    data: list[_Item]


class OpenAICompatibleEmbedder:
    """An embedder over HTTP.

    `base_url` is the API root (e.g. `http://localhost:11434/v1`); requests go to `<base_url>/embeddings`.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: SecretStr | None = None,
        timeout_s: float = 10.0,
        send_dimensions: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key.get_secret_value()}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_s, transport=transport
        )
        self._model = model
        self._send_dimensions = send_dimensions
        self.model_id = f"openai-compatible:{model}"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        out: list[Vector] = []
        for start in range(0, len(texts), _BATCH):
            out.extend(await self._embed_batch(list(texts[start : start + _BATCH])))
        return out

    async def _embed_batch(self, texts: list[str]) -> list[Vector]:
        body: dict[str, object] = {"model": self._model, "input": texts, "encoding_format": "float"}
        if self._send_dimensions:
            body["dimensions"] = EMBEDDING_DIMENSIONS
        try:
            response = await self._client.post("embeddings", json=body)
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"embeddings endpoint {self._client.base_url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise EmbeddingError(
                f"embeddings endpoint answered HTTP {response.status_code}: {response.text[:200]!r}"
            )
        try:
            parsed = _Response.model_validate_json(response.content)
        except ValidationError as exc:
            raise EmbeddingError(
                f"embeddings endpoint returned an unexpected body ({exc.error_count()} errors)"
            ) from exc
        items = sorted(parsed.data, key=lambda item: item.index)
        if len(items) != len(texts):
            raise EmbeddingError(f"embeddings endpoint returned {len(items)} vectors for {len(texts)} texts")
        for item in items:
            if len(item.embedding) != EMBEDDING_DIMENSIONS:
                raise EmbeddingError(
                    f"embeddings model {self._model!r} returned {len(item.embedding)} dimensions, "
                    f"the store needs {EMBEDDING_DIMENSIONS}"
                )
        return normalize(np.array([item.embedding for item in items], dtype=np.float32))
