"""Which thread replies are corrections, follow-up questions, or neither."""

from __future__ import annotations

import pytest

from compass_bot.classify import ReplyKind, classify_reply, strip_mentions


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
