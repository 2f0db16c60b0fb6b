"""Text → vector, behind one small protocol (see protocol.py) with three implementations:

- `MiniLMEmbedder`: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, fully offline — the default.
- `OpenAICompatibleEmbedder`: any `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, ...).
- `HashingEmbedder`: deterministic feature hashing, for unit tests only (no semantics).
"""

from compass_worker.knowledge.embedders.hashing import HashingEmbedder
from compass_worker.knowledge.embedders.minilm import MiniLMEmbedder
from compass_worker.knowledge.embedders.openai_http import OpenAICompatibleEmbedder
from compass_worker.knowledge.embedders.protocol import EMBEDDING_DIMENSIONS, Embedder, Vector

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "OpenAICompatibleEmbedder",
    "Vector",
]
