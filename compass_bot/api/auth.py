"""Bearer tokens with scopes. Only a SHA-256 of each token is stored, so a lookup by hash is the comparison
(no secret is ever compared byte by byte in Python); `admin` implies every other scope."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from compass_bot.problems import ProblemError
from compass_worker.contracts import API_TOKEN_PREFIX, ApiScope, api_token_hash


@dataclass(frozen=True)
class Caller:
    token_id: uuid.UUID
    name: str
    scopes: frozenset[str]

    def require(self, scope: ApiScope) -> None:
        if scope not in self.scopes and "admin" not in self.scopes:
            raise ProblemError(403, f"this token lacks the {scope!r} scope")


async def authenticate(pool: asyncpg.Pool[asyncpg.Record], token: str | None) -> Caller:
    """The caller behind a bearer token (the header's scheme is checked by the framework)."""
    token = (token or "").strip()
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        raise ProblemError(
            401, "a bearer token is required (compass api-token create)", {"WWW-Authenticate": "Bearer"}
        )
    row = await pool.fetchrow(
        "SELECT id, name, scopes FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        api_token_hash(token),
    )
    if row is None:
        raise ProblemError(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    return Caller(token_id=row["id"], name=row["name"], scopes=frozenset(row["scopes"]))


def new_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create_token(
    pool: asyncpg.Pool[asyncpg.Record], name: str, scopes: list[str], created_by: str
) -> tuple[uuid.UUID, str]:
    token, token_id = new_token(), uuid.uuid4()
    await pool.execute(
        "INSERT INTO api_tokens (id, name, token_hash, scopes, created_by) VALUES ($1, $2, $3, $4, $5)",
        token_id,
        name,
        api_token_hash(token),
        sorted(set(scopes)),
        created_by,
    )
    return token_id, token
