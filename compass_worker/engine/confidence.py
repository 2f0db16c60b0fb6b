"""Confidence across hypotheses: one distribution over the candidates and "none of these".

Scores are log-odds-like; a fixed "none of these / unknown" alternative takes its share, so that weak
evidence can never look certain and the confidences of all candidates sum to less than 1.
"""

from __future__ import annotations

import math

NULL_SCORE = 2.5  # the "none of these / unknown" alternative in the confidence normalisation
# What could not be looked at could be the answer: each part of the picture that is missing (a component
# on the symptom's path with no telemetry of its own, a modality with no datasource) adds an alternative
# of this score to "none of these".
UNSEEN_SCORE = NULL_SCORE - 1.0
# Scores are log-odds-like sums of hand-set weights; one temperature, fitted on the dev sets only, maps
# them to probabilities that match how often the top answer is right (calibration).
TEMPERATURE = 0.7  # fitted on the lab's dev split and nezha-dev (expected calibration error, log-loss)


def confidences(scores: list[float], unseen: int = 0) -> list[float]:
    """Softmax over the candidates plus "none of these" (a fixed alternative, and one per unseen part)."""
    if not scores:
        return []
    m = max([*scores, NULL_SCORE])
    exps = [math.exp((s - m) / TEMPERATURE) for s in scores]
    null = math.exp((NULL_SCORE - m) / TEMPERATURE) + unseen * math.exp((UNSEEN_SCORE - m) / TEMPERATURE)
    return [e / (sum(exps) + null) for e in exps]
