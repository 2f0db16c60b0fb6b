"""Build the configured embedder from settings."""

from __future__ import annotations

from compass_worker.knowledge.embedders.hashing import HashingEmbedder
from compass_worker.knowledge.embedders.minilm import MiniLMEmbedder
from compass_worker.knowledge.embedders.openai_http import OpenAICompatibleEmbedder
from compass_worker.knowledge.embedders.protocol import Embedder
from compass_worker.knowledge.errors import InvalidInput
from compass_worker.knowledge.settings import EmbedderKind, KnowledgeSettings


def build_embedder(settings: KnowledgeSettings) -> Embedder:
    if settings.embedder is EmbedderKind.OPENAI:
        if not settings.embeddings_url or not settings.embeddings_model:
            raise InvalidInput(
                "COMPASS_EMBEDDER=openai needs COMPASS_EMBEDDINGS_URL and COMPASS_EMBEDDINGS_MODEL"
            )
        return OpenAICompatibleEmbedder(
            settings.embeddings_url, settings.embeddings_model, api_key=settings.embeddings_api_key
        )
    if settings.embedder is EmbedderKind.HASHING:
        return HashingEmbedder()
    return MiniLMEmbedder()
