"""The Slack side of the store: which team a channel belongs to, and which investigation a thread is."""

from __future__ import annotations

from uuid import UUID

from compass_worker.knowledge.database import Pool


class SlackLinks:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def map_channel(self, channel_id: str, team_id: str, team_name: str | None = None) -> None:
        """Knowledge from this channel becomes `team_id`'s (created if new; the name updated if given)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO teams (id, name) VALUES ($1, coalesce($2, $1))"
                " ON CONFLICT (id) DO UPDATE SET name = coalesce($2, teams.name)",
                team_id,
                team_name,
            )
            await conn.execute(
                "INSERT INTO slack_channel_teams (channel_id, team_id) VALUES ($1, $2)"
                " ON CONFLICT (channel_id) DO UPDATE SET team_id = EXCLUDED.team_id",
                channel_id,
                team_id,
            )

    async def team_for_channel(self, channel_id: str) -> str | None:
        value = await self._pool.fetchval(
            "SELECT team_id FROM slack_channel_teams WHERE channel_id = $1", channel_id
        )
        return None if value is None else str(value)

    async def link_thread(
        self, channel_id: str, thread_ts: str, investigation_id: UUID, *, status_message_ts: str | None = None
    ) -> None:
        await self._pool.execute(
            "INSERT INTO slack_threads (channel_id, thread_ts, investigation_id, status_message_ts)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (channel_id, thread_ts) DO UPDATE SET"
            " investigation_id = EXCLUDED.investigation_id,"
            " status_message_ts = coalesce(EXCLUDED.status_message_ts, slack_threads.status_message_ts)",
            channel_id,
            thread_ts,
            investigation_id,
            status_message_ts,
        )

    async def investigation_for_thread(self, channel_id: str, thread_ts: str) -> UUID | None:
        value = await self._pool.fetchval(
            "SELECT investigation_id FROM slack_threads WHERE channel_id = $1 AND thread_ts = $2",
            channel_id,
            thread_ts,
        )
        return value if isinstance(value, UUID) else None

    async def status_message(self, channel_id: str, thread_ts: str) -> str | None:
        value = await self._pool.fetchval(
            "SELECT status_message_ts FROM slack_threads WHERE channel_id = $1 AND thread_ts = $2",
            channel_id,
            thread_ts,
        )
        return None if value is None else str(value)
