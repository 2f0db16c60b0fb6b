"""Constants and steps shared by the edge tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import httpx

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


async def send(http: httpx.AsyncClient, request: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = request
    return await http.post("/slack/events", content=body, headers=headers)
