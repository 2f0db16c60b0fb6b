"""From similar past incidents to prior adjustments — pure arithmetic, no database.

Each similar incident with a known outcome votes: its confirmed cause up, the cause COMPASS wrongly
gave down, in proportion to how similar it is. A vote's relevance is 0 at `min_similarity` and 1 at
`full_similarity` and above, discounted by how much less similar it is than the closest match (see
`nearest_margin`). A vote is worth `strength` (a confirmation) or `correction_strength` (a correction: a
human giving the actual cause is ground truth; an inconclusive verdict corrected counts as a correction);
a cause's weight is the product of its votes' worth raised to their relevance (the wrong cause's
divided), clamped. Weights are priors: evidence still decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from compass_worker.knowledge.records import Cause, PriorAdjustment, SimilarIncident


class PriorPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)
    min_similarity: float = Field(default=0.5, ge=0.0, lt=1.0)  # below: not similar, ignored
    full_similarity: float = Field(default=0.8, gt=0.0, le=1.0)  # at or above: a full vote
    strength: float = Field(default=3.0, gt=1.0)  # one near-identical confirmation
    correction_strength: float = Field(default=10.0, gt=1.0)  # one near-identical correction
    min_weight: float = Field(default=0.1, gt=0.0)
    max_weight: float = Field(default=10.0, gt=1.0)
    neighbours: int = Field(default=10, ge=1)  # how many similar incidents are consulted
    # Symptom texts are templated ("checkout 5xx above 25% since 07:22"), so unrelated incidents of one
    # system are 0.9–0.99 similar to each other. When one past incident matches much better than the
    # rest, it speaks for this incident: a vote's relevance is multiplied by exp(-(best − its) / margin).
    nearest_margin: float = Field(default=0.01, gt=0.0)

    def relevance(self, similarity: float) -> float:
        if similarity <= self.min_similarity:
            return 0.0
        span = max(self.full_similarity - self.min_similarity, 1e-9)
        return min(1.0, (similarity - self.min_similarity) / span)


@dataclass
class _Tally:
    score: float = 0.0
    confirmed: list[SimilarIncident] = field(default_factory=list)
    rejected: list[SimilarIncident] = field(default_factory=list)


def compute_priors(similar: Sequence[SimilarIncident], policy: PriorPolicy) -> list[PriorAdjustment]:
    """Adjustments for every cause the similar incidents speak about, strongest first."""
    best = max((s.similarity for s in similar), default=0.0)
    relevant = [
        (s, policy.relevance(s.similarity) * math.exp(-(best - s.similarity) / policy.nearest_margin))
        for s in similar
    ]
    relevant = [(s, r) for s, r in relevant if r > 0.01]  # a vanishing vote is not worth citing
    tallies: dict[Cause, _Tally] = {}
    for incident, relevance in relevant:
        corrected = incident.wrong is not None and incident.wrong != incident.confirmed
        worth = math.log(policy.correction_strength if corrected else policy.strength) * relevance
        up = tallies.setdefault(incident.confirmed, _Tally())
        up.score += worth
        up.confirmed.append(incident)
        if corrected:
            assert incident.wrong is not None
            down = tallies.setdefault(incident.wrong, _Tally())
            down.score -= worth
            down.rejected.append(incident)
    out = [
        PriorAdjustment(
            cause=cause,
            weight=min(policy.max_weight, max(policy.min_weight, math.exp(tally.score))),
            confirmed=len(tally.confirmed),
            rejected=len(tally.rejected),
            similar_incidents=len(relevant),
            citation=citation(cause, tally.confirmed, tally.rejected, len(relevant)),
            evidence=tuple(s.signature_id for s in (*tally.confirmed, *tally.rejected)),
        )
        for cause, tally in tallies.items()
    ]
    return sorted(out, key=lambda a: (-a.weight, str(a.cause)))


def citation(
    cause: Cause, confirmed: Sequence[SimilarIncident], rejected: Sequence[SimilarIncident], seen: int
) -> str:
    """The sentence shown to the engineer.

    E.g. "seen 3× before: 2× payments-db db_slow_queries, confirmed by @alice on 2026-11-02; resolution: …"
    """
    parts: list[str] = []
    if confirmed:
        latest = max(confirmed, key=lambda s: s.confirmed_at)
        parts.append(
            f"{len(confirmed)}× {cause}, confirmed by {_handle(latest.confirmed_by)} on "
            f"{latest.confirmed_at.date().isoformat()}"
        )
    if rejected:
        latest = max(rejected, key=lambda s: s.confirmed_at)
        parts.append(
            f"{len(rejected)}× {cause} was wrong (actual: {latest.confirmed}, corrected by "
            f"{_handle(latest.confirmed_by)} on {latest.confirmed_at.date().isoformat()})"
        )
    text = f"seen {seen}× before: " + "; ".join(parts)
    resolved = [s for s in confirmed if s.resolution]
    if resolved:
        text += f"; resolution: {max(resolved, key=lambda s: s.confirmed_at).resolution}"
    return text


def _handle(author: str) -> str:
    return author if author.startswith("@") else f"@{author}"
