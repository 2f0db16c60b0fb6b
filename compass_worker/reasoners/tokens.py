"""Token estimates without a tokenizer (none is available offline for hosted models' vocabularies).

JSON-heavy English runs at about 3.5 characters per token on current BPE vocabularies; rounding up on
that ratio keeps per-call budgets on the safe side. Real counts come back in each call's usage and are
what the ledger records; estimates only decide trimming and whether a call fits a budget.
"""

from __future__ import annotations

import math

CHARS_PER_TOKEN = 3.5


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)
