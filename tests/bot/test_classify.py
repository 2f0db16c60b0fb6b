"""Which thread replies are corrections, follow-up questions, or neither."""

from __future__ import annotations

import pytest

from compass_bot.classify import MentionKind, ReplyKind, classify_mention, classify_reply, strip_mentions


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("no — it was the payments-db failover", ReplyKind.CORRECTION),
        ("Nope, DNS.", ReplyKind.CORRECTION),
        ("wrong", ReplyKind.CORRECTION),
        ("that's not it, the root cause was a bad config push", ReplyKind.CORRECTION),
        ("<@UCOMPASS> not quite: it was actually the cache", ReplyKind.CORRECTION),
        ("❌ cert expired", ReplyKind.CORRECTION),
        ("did the 14:02 deploy touch payments?", ReplyKind.QUESTION),
        ("what about checkout-db", ReplyKind.QUESTION),
        ("is kafka lagging?", ReplyKind.QUESTION),
        ("why?", ReplyKind.OTHER),  # nothing to look up
        ("ok thanks, closing the incident", ReplyKind.OTHER),
        ("nobody touched it", ReplyKind.OTHER),  # "no" only as a whole word
        ("", ReplyKind.OTHER),
    ],
)
def test_classify_reply(text: str, kind: ReplyKind) -> None:
    assert classify_reply(text) is kind


def test_strip_mentions() -> None:
    assert strip_mentions("<@UCOMPASS>  checkout   is slow <@U123|bob>") == "checkout is slow"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<@U1> write the post-mortem", MentionKind.POSTMORTEM),
        ("can you draft a postmortem please", MentionKind.POSTMORTEM),
        ("<@U1> which incidents involved payments-db this month?", MentionKind.HISTORY),
        ("how many outages did we have last week", MentionKind.HISTORY),
        ("list database incidents", MentionKind.HISTORY),
        ("checkout p99 latency is spiking since 14:02", MentionKind.INVESTIGATE),
        ("what is wrong with checkout? 5xx everywhere", MentionKind.INVESTIGATE),
        ("payments incidents are piling up: errors above 5%", MentionKind.INVESTIGATE),
    ],
)
def test_a_mention_is_a_symptom_unless_it_clearly_asks_for_history_or_a_postmortem(
    text: str, kind: MentionKind
) -> None:
    assert classify_mention(text) is kind
