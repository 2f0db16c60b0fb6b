"""Confidence across hypotheses: one distribution over the candidates and "none of these".

Scores are log-odds-like; a fixed "none of these / unknown" alternative takes its share, so that weak
evidence can never look certain and the confidences of all candidates sum to less than 1.
"""

from __future__ import annotations

import math

NULL_SCORE = 2.5  # the "none of these / unknown" alternative in the confidence normalisation


def confidences(scores: list[float]) -> list[float]:
    """Softmax over the candidates plus a fixed "none of these" alternative."""
    if not scores:
        return []
    m = max([*scores, NULL_SCORE])
    exps = [math.exp(s - m) for s in scores]
    denom = sum(exps) + math.exp(NULL_SCORE - m)
    return [e / denom for e in exps]
