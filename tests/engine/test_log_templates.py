"""Drain templating of sampled log lines and template bursts after the onset."""

from __future__ import annotations

import json

from compass_worker.engine.log_templates import Templater, bursts, message_of

T0 = 1_800_000_000.0


def _lines(comp: str, texts: list[str], start: float) -> list[tuple[str, str, float]]:
    return [(comp, t, start + i) for i, t in enumerate(texts)]


def test_variable_parts_collapse_into_one_template() -> None:
    tpl = Templater()
    a = tpl.add("payments", "connection refused to 10.0.3.7:5432 after 3 retries")
    b = tpl.add("payments", "connection refused to 10.0.9.1:5432 after 5 retries")
    c = tpl.add("payments", "user 42 logged in")
    assert a == b != c
    assert "connection refused" in tpl.template("payments", a)
    assert "10.0.3.7" not in tpl.template("payments", a)
    # one miner per component: the same text elsewhere is another component's template
    assert tpl.add("checkout", "user 42 logged in") == 1


def test_message_of_reads_json_and_logfmt() -> None:
    line = json.dumps({"ts": "2026-01-01T00:00:00Z", "level": "error", "msg": "timeout calling ledger"})
    assert message_of(line) == "timeout calling ledger"
    assert message_of('ts=1 level=error msg="pool exhausted" waited=3s') == "pool exhausted"
    assert message_of("plain text line") == "plain text line"


def test_a_new_exception_template_is_a_burst_chronic_noise_is_not() -> None:
    chronic = [f"cache miss for key user:{i}" for i in range(40)]
    before = _lines("orders", chronic, T0)
    after = _lines(
        "orders",
        [f"cache miss for key user:{i}" for i in range(40, 80)]
        + [f"java.lang.NullPointerException at OrderMapper.map(OrderMapper.java:{i})" for i in range(30, 42)],
        T0 + 1000,
    )
    found, times = bursts(before, after)
    assert [b.template for b in found if b.component == "orders"] == [found[0].template]
    top = found[0]
    assert top.new and top.errorish and top.after == 12
    assert "NullPointerException" in top.template
    assert len(times[("orders", top.cluster_id)]) == 12


def test_a_known_template_that_grows_sharply_is_a_burst() -> None:
    before = _lines("api", [f"request {i} ok" for i in range(50)] + ["upstream timeout after 30s"], T0)
    after = _lines(
        "api", [f"request {i} ok" for i in range(10)] + ["upstream timeout after 30s"] * 30, T0 + 900
    )
    found, _ = bursts(before, after)
    assert len(found) == 1
    b = found[0]
    assert not b.new and b.before == 1 and b.after == 30
    assert b.share_after > 0.7 > 0.05 > b.share_before
    assert "grew from" in b.describe()


def test_steady_templates_are_not_news() -> None:
    texts = [f"retrying job {i}" for i in range(30)]
    found, _ = bursts(_lines("worker", texts, T0), _lines("worker", texts, T0 + 900))
    assert found == []
