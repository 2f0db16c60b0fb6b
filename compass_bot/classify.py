"""What a reply in an investigated thread is: a correction, a follow-up question, or neither.

Deliberately conservative: a reply that is neither is left alone (people talk in incident threads).
"""

from __future__ import annotations

import re
from enum import StrEnum

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_CORRECTION_START = re.compile(
    r"^\s*(?:no\b|nope\b|nah\b|wrong\b|incorrect\b|not (?:quite|really|it|right|correct)\b"
    r"|that'?s (?:wrong|not it|not right|incorrect)\b|❌|:x:)",
    re.I,
)
_CORRECTION_ANY = re.compile(
    r"\b(?:root cause was|it was actually|was actually|the (?:real|actual) (?:root )?cause"
    r"|you(?:'re| are) wrong|this is wrong|that is wrong)\b",
    re.I,
)
_QUESTION_START = re.compile(
    r"^\s*(?:did|does|do|is|was|were|are|what|why|how|when|which|where|could|can|has|have|who|any)\b", re.I
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]")
_FILLER_WORDS = (
    "did does do is was were are what why how when which where could can has have who any the a an "
    "it this that there here you we they i me my our your of to in on at for with and or not be been"
)
_FILLER = frozenset(_FILLER_WORDS.split())


_POSTMORTEM = re.compile(
    r"\bpost[- ]?mortem\b|\b(?:incident|retro(?:spective)?) (?:report|write-?up)\b", re.I
)
# A question about past incidents, not a symptom: "which incidents…", "how many outages…", "list…".
_HISTORY = re.compile(
    r"^\s*(?:which|what|how many|list|show(?: me)?|any|were there|have there been)\b.*"
    r"\b(?:incidents?|outages?|investigations?|post-?mortems?)\b",
    re.I,
)


class MentionKind(StrEnum):
    INVESTIGATE = "investigate"
    POSTMORTEM = "postmortem"  # "write the post-mortem"
    HISTORY = "history"  # "which incidents involved payments-db this month?"


def classify_mention(text: str) -> MentionKind:
    """What a mention asks for. Anything that is not clearly one of the two others is a symptom."""
    clean = strip_mentions(text)
    if _POSTMORTEM.search(clean) and len(clean) < 200:
        return MentionKind.POSTMORTEM
    if _HISTORY.search(clean):
        return MentionKind.HISTORY
    return MentionKind.INVESTIGATE


class ReplyKind(StrEnum):
    CORRECTION = "correction"
    QUESTION = "question"
    OTHER = "other"


def strip_mentions(text: str) -> str:
    return " ".join(_MENTION.sub(" ", text).split())


def classify_reply(text: str) -> ReplyKind:
    clean = strip_mentions(text)
    if not clean:
        return ReplyKind.OTHER
    if _CORRECTION_START.search(clean) or _CORRECTION_ANY.search(clean):
        return ReplyKind.CORRECTION
    asks = clean.rstrip().endswith("?") or bool(_QUESTION_START.search(clean))
    if not asks:
        return ReplyKind.OTHER
    # A follow-up is about a component or a time; "why?" alone gives nothing to look up.
    subject = bool(_TIME.search(clean)) or any(
        w.lower() not in _FILLER and len(w) >= 3 for w in _WORD.findall(clean)
    )
    return ReplyKind.QUESTION if subject else ReplyKind.OTHER
