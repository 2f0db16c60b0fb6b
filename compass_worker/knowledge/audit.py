"""The tool-call audit log: every call COMPASS made to a telemetry tool, allowed or denied."""

from __future__ import annotations

import json
from uuid import UUID

from compass_worker.knowledge.database import Pool
from compass_worker.knowledge.records import ToolCall, ToolCallRecord


class AuditLog:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def record(self, call: ToolCall) -> int:
        value = await self._pool.fetchval(
            "INSERT INTO tool_calls (investigation_id, server, tool, arguments, status, error, duration_ms)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            call.investigation_id,
            call.server,
            call.tool,
            json.dumps(call.arguments),
            call.status.value,
            call.error,
            call.duration_ms,
        )
        return int(value)

    async def calls(self, investigation_id: UUID) -> list[ToolCallRecord]:
        rows = await self._pool.fetch(
            "SELECT * FROM tool_calls WHERE investigation_id = $1 ORDER BY id", investigation_id
        )
        return [
            ToolCallRecord(
                id=r["id"],
                created_at=r["created_at"],
                investigation_id=r["investigation_id"],
                server=r["server"],
                tool=r["tool"],
                arguments=json.loads(r["arguments"]),
                status=r["status"],
                error=r["error"],
                duration_ms=r["duration_ms"],
            )
            for r in rows
        ]
