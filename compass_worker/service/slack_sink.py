"""The engine's events, rendered into the incident's Slack thread.

- One status message, updated in place (chat.update), coalesced: at most one update per
  `interval_s`, whatever the event rate — Slack's rate limits are respected by construction.
- Key findings (a hypothesis supported by clear evidence) as thread replies, a few at most.
- The verdict as one Block Kit message with the ✅ / ❌ buttons.

Every message's ts is kept in the `MessageLedger` under the investigation's key, so a retried job
(the worker died mid-investigation) updates the same status and verdict messages instead of reposting.
`emit()` only changes state and wakes the flusher: it never blocks the engine and never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from compass_worker.contracts import MessageTag, SlackThread
from compass_worker.domain.events import (
    CheckStarted,
    Event,
    GapFound,
    HypothesisProposed,
    HypothesisRefuted,
    HypothesisSupported,
    Observed,
    PhaseStarted,
    VerdictReached,
)
from compass_worker.domain.models import Hypothesis, HypothesisStatus, Stance, Verdict
from compass_worker.service.ledger import MessageLedger
from compass_worker.service.outage import is_outage
from compass_worker.service.slack import SlackPoster
from compass_worker.slack.from_domain import verdict_view
from compass_worker.slack.replies import finding_text
from compass_worker.slack.status import status_blocks, status_text
from compass_worker.slack.verdict import verdict_blocks
from compass_worker.slack.views import StatusView

log = logging.getLogger(__name__)

# A supported hypothesis is a "key finding" worth its own reply from this score on (the judge's units).
FINDING_SCORE = 3.0
FAILED_REACTION = "x"
MAX_FINDINGS = 2


class SlackSink:
    def __init__(
        self,
        poster: SlackPoster,
        ledger: MessageLedger,
        thread: SlackThread,
        *,
        interval_s: float = 1.0,
    ) -> None:
        self._poster = poster
        self._ledger = ledger
        self._thread = thread
        self._interval_s = interval_s
        self._started = time.monotonic()
        self._status_ts: str | None = None
        self._phase = "starting"
        self._detail = ""
        self._hyps: dict[str, Hypothesis] = {}
        self._checks = 0
        self._notes: list[str] = []
        self._findings: list[Hypothesis] = []
        self._posted_findings: set[str] = set()
        self._dirty = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self.verdict: Verdict | None = None

    @property
    def status_ts(self) -> str | None:
        return self._status_ts

    async def open(self, status_ts: str | None) -> str | None:
        """Adopt the status message (the bot's, or a previous attempt's), or post one; start flushing."""
        self._status_ts = status_ts or await self._ledger.get("status")
        if self._status_ts is None:
            self._status_ts = await self._poster.post(
                self._thread.channel,
                self._thread.thread_ts,
                status_text(self._view()),
                status_blocks(self._view()),
                tag=self._tag("status"),
            )
        if self._status_ts is not None:
            await self._ledger.set("status", self._status_ts)
        self._flusher = asyncio.create_task(self._flush_loop())
        return self._status_ts

    def retrying(self, note: str) -> None:
        """A retried attempt says so ("worker lost — retrying (attempt 2)") until its first phase."""
        self._phase = note
        if note not in self._notes:
            self._notes.append(note)
        self._dirty.set()

    async def emit(self, event: Event) -> None:
        if isinstance(event, PhaseStarted):
            self._phase, self._detail = event.phase, event.detail
        elif isinstance(event, Observed):
            self._detail = event.text
        elif isinstance(event, HypothesisProposed | HypothesisRefuted):
            self._hyps[event.hypothesis.id] = event.hypothesis
        elif isinstance(event, HypothesisSupported):
            self._hyps[event.hypothesis.id] = event.hypothesis
            if self._is_new_leader(event.hypothesis):
                self._findings.append(event.hypothesis)
        elif isinstance(event, CheckStarted):
            self._checks += 1
        elif isinstance(event, GapFound):
            if event.text not in self._notes:
                self._notes.append(event.text)
        elif isinstance(event, VerdictReached):
            self.verdict = event.verdict
        self._dirty.set()

    def _is_new_leader(self, h: Hypothesis) -> bool:
        """A finding worth a reply: clear evidence, and ahead of every other supported hypothesis (so a
        harmless rollout that merely has *some* support is not announced as a finding)."""
        if h.score < FINDING_SCORE or len(self._posted_findings) + len(self._findings) >= MAX_FINDINGS:
            return False
        if any(f.id == h.id for f in self._findings) or h.id in self._posted_findings:
            return False
        rivals = (
            x.score for x in self._hyps.values() if x.id != h.id and x.status == HypothesisStatus.SUPPORTED
        )
        return h.score >= max(rivals, default=0.0)

    def _view(self, state: str = "running", failure: str | None = None) -> StatusView:
        hyps = list(self._hyps.values())
        alive = sorted((h for h in hyps if h.status != HypothesisStatus.REFUTED), key=lambda h: -h.score)
        return StatusView(
            phase=self._phase,
            detail=self._detail,
            hypotheses=len(hyps),
            refuted=sum(1 for h in hyps if h.status == HypothesisStatus.REFUTED),
            supported=sum(1 for h in hyps if h.status == HypothesisStatus.SUPPORTED),
            checks=self._checks,
            elapsed_s=time.monotonic() - self._started,
            leading=tuple(f"{h.component} · {h.fault}" for h in alive[:3]),
            notes=tuple(self._notes),
            state=state,
            failure=failure,
        )

    async def _update_status(self, view: StatusView) -> None:
        if self._status_ts is None:
            return
        await self._poster.update(
            self._thread.channel, self._status_ts, status_text(view), status_blocks(view)
        )

    async def _post_findings(self) -> None:
        while self._findings:
            h = self._findings.pop(0)
            part = f"finding:{h.id}"
            if h.id in self._posted_findings or await self._ledger.get(part) is not None:
                continue  # this attempt or an earlier one already said it
            ev = next(
                (e for e in h.evidence if e.stance == Stance.SUPPORTS), h.evidence[0] if h.evidence else None
            )
            if ev is None:
                continue
            text = finding_text(h.component, h.fault, ev.observation, ev.link)
            ts = await self._poster.post(
                self._thread.channel, self._thread.thread_ts, text, tag=self._tag(part)
            )
            self._posted_findings.add(h.id)
            if ts is not None:
                await self._ledger.set(part, ts)

    async def _flush_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._post_findings()
                await self._update_status(self._view())
            except Exception as exc:
                if not is_outage(exc):
                    log.exception("could not update the Slack thread of %s", self._thread.investigation_key)
                else:  # Redis/PostgreSQL away (the ledger): the next flush retries; one line, no traceback
                    log.warning(
                        "could not update the Slack thread of %s yet: %s",
                        self._thread.investigation_key,
                        type(exc).__name__,
                    )
            await asyncio.sleep(self._interval_s)

    async def _stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None

    async def finish(self, verdict: Verdict) -> str | None:
        """Final status, outstanding findings, and the verdict message — posted once, updated on a retry."""
        await self._stop()
        await self._post_findings()
        await self._update_status(self._view("done"))
        hypotheses = len(self._hyps)
        text, blocks = verdict_blocks(
            verdict_view(self._thread.investigation_key, verdict, hypotheses_formed=hypotheses)
        )
        ts = await self._ledger.get("verdict")
        if ts is not None and await self._poster.update(self._thread.channel, ts, text, blocks):
            return ts
        ts = await self._poster.post(
            self._thread.channel, self._thread.thread_ts, text, blocks, tag=self._tag("verdict")
        )
        if ts is not None:
            await self._ledger.set("verdict", ts)
        return ts

    async def fail(self, message: str, reason: str) -> None:
        """An honest failure: the status says it stopped, one reply says why (once), ❌ on the thread."""
        await self._stop()
        await self._update_status(self._view("failed", reason))
        if await self._ledger.get("failure") is None:
            ts = await self._poster.post(
                self._thread.channel, self._thread.thread_ts, message, tag=self._tag("failure")
            )
            if ts is not None:
                await self._ledger.set("failure", ts)
        await self._poster.react(self._thread.channel, self._thread.thread_ts, FAILED_REACTION)

    async def close(self) -> None:
        await self._stop()

    def _tag(self, part: str) -> MessageTag:
        return MessageTag(investigation=self._thread.investigation_key, part=part)
