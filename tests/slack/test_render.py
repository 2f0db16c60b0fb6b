"""Block Kit builders stay inside Slack's limits whatever they are given."""

from __future__ import annotations

from compass_testing.fake_slack import block_errors
from compass_worker.slack import CauseView, EliminatedView, EvidenceLine, StatusView, VerdictView
from compass_worker.slack.blocks import MAX_SECTION_TEXT, clip, link, pack_lines
from compass_worker.slack.status import status_blocks, status_text
from compass_worker.slack.verdict import verdict_blocks, verdict_title


def test_clip_keeps_the_link_inside_the_limit() -> None:
    more = link("https://grafana.example/explore?x=1|2", "open in Grafana")
    out = clip("a" * 5000, 3000, more)
    assert len(out) == 3000 and out.endswith(
        "…" + " <https://grafana.example/explore?x=1%7C2|open in Grafana>"
    )
    assert clip("short", 3000, more) == "short"


def test_a_url_slack_would_refuse_is_not_linked_but_the_label_stays() -> None:
    url = "https://grafana.example/explore?q=" + "x" * 3100
    assert link(url, "open in Grafana") == "open in Grafana (link too long for Slack)"
    assert link(url[:2900], "open").startswith("<https://grafana.example/explore?q=")


def test_pack_lines_splits_on_lines_and_clips_giants() -> None:
    texts = pack_lines(["x" * 2000, "y" * 2000, "z" * 9000])
    assert [len(t) for t in texts] == [2000, 2000, MAX_SECTION_TEXT]


def test_a_verdict_of_any_size_is_valid_block_kit() -> None:
    big = "<b>&" * 2000
    ev = tuple(EvidenceLine("prometheus", big, big, "http://g/explore?a>b") for _ in range(30))
    view = VerdictView(
        investigation_key="slack:C1:1.2",
        confident=True,
        causes=tuple(CauseView(f"svc-{i}", "bad_deploy", 0.5, big, ev) for i in range(40)),
        eliminated=tuple(EliminatedView(f"c{i}", "dns_failure", big) for i in range(500)),
        gaps=tuple(big for _ in range(40)),
        notices=("AI unavailable — presenting the gathered data",),
    )
    text, blocks = verdict_blocks(view)
    assert block_errors(blocks) == [] and len(blocks) <= 50
    assert blocks[-1]["type"] == "actions" and text.startswith("Root cause: svc-0 · bad_deploy")
    assert "<b>" not in str(blocks)  # mrkdwn control characters escaped


def test_honest_titles_when_nothing_is_concluded() -> None:
    nothing = VerdictView(
        investigation_key="k", confident=False, observations=("checkout latency: 0.4 → 3.1",)
    )
    assert verdict_title(nothing) == "I couldn't form a clear hypothesis — here is what I observed"
    assert "checkout latency" in str(verdict_blocks(nothing)[1])
    disproven = VerdictView(
        investigation_key="k",
        confident=False,
        eliminated=(EliminatedView("db", "db_slow_queries", "DB latency flat"),),
        gaps=("no trace datasource (Tempo): no trace correlation — degraded mode",),
        hypotheses_formed=4,
    )
    assert verdict_title(disproven) == "All hypotheses disproven — observability gap"
    assert "degraded mode" in str(verdict_blocks(disproven)[1])


def test_status_message_states() -> None:
    assert status_text(StatusView()) == "Investigating … 0 hypotheses (0 alive, 0 refuted) · starting"
    done = StatusView(state="done", hypotheses=10, refuted=7, supported=2, elapsed_s=3.2)
    assert status_text(done).startswith("Investigation finished in 3.2s: 10 hypotheses, 7 refuted")
    assert block_errors(status_blocks(StatusView(notes=tuple("n" * 5000 for _ in range(9))))) == []
