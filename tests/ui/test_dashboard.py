"""The dashboard in a real browser (Debian's chromium through Playwright) against the real bot app, the
test PostgreSQL + pgvector and Redis, with investigations run on a lab incident.

Screenshots of the main pages are written to docs/screenshots/ (linked from the README).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from uuid import UUID

import pytest
from playwright.async_api import Page, expect
from ui_testkit import READER_TOKEN, SCREENSHOTS, SHOWCASE, USER, App, log_in

from compass_cli.memory import CliMemory
from compass_lab.harness import investigate_scenario
from compass_lab.server.runner import LabServer
from compass_worker.cost.ledger import StoreLedger
from compass_worker.domain import Incident, Verdict
from compass_worker.knowledge.records import FeedbackChannel, InvestigationStatus, LlmCall, Trigger
from compass_worker.knowledge.scope import Ownership
from compass_worker.knowledge.sink import StoreSink
from compass_worker.knowledge.store import KnowledgeStore
from compass_worker.settings import Settings

pytestmark = pytest.mark.slow

# Every visible control has a label; text meets WCAG AA contrast (4.5:1, 3:1 for large text).
A11Y_JS = """
() => {
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push('unlabelled ' + el.tagName + '#' + el.id + '[name=' + el.name + ']');
  }
  for (const el of document.querySelectorAll('button, a')) {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('nameless ' + el.tagName);
  }
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const texts = 'a, p, td, th, label, button, h1, h2, h3, h4, span, li, dt, dd, code, summary';
  for (const el of document.querySelectorAll(texts)) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!el.offsetParent || !own) continue;
    const style = getComputedStyle(el);
    const fg = lum(rgb(style.color).slice(0, 3)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push('contrast ' + ratio.toFixed(2) + ' on ' + el.textContent.trim().slice(0, 30));
    }
  }
  return problems;
}
"""


async def accessible(page: Page) -> None:
    assert await page.evaluate(A11Y_JS) == []
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.locator("h1").count() == 1


async def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


async def seed(store: KnowledgeStore, investigated: tuple[Incident, Verdict]) -> dict[str, UUID]:
    """Three recorded investigations (as `compass investigate` records them) and one that failed."""
    incident, verdict = investigated
    # One CliMemory is one investigation (`compass investigate` makes one per run).
    confirmed = await CliMemory(store, USER).record(incident, verdict)
    gateway = await CliMemory(store, USER).record(
        incident.model_copy(update={"symptom": "edge-gateway 5xx above 5%", "service": "edge-gateway"}),
        verdict,
    )
    assert confirmed is not None and gateway is not None
    failed = await store.investigations.start(
        idempotency_key="api:search-1",
        incident=incident.model_copy(
            update={"symptom": "search errors after the deploy", "service": "search"}
        ),
        trigger=Trigger.API,
        ownership=Ownership.team("search"),
    )
    await store.investigations.finish(failed.record.id, InvestigationStatus.FAILED)
    await store.slack.link_thread("C0INCIDENTS", "1764000000.000100", gateway)
    await store.feedback.confirm(confirmed, author="alice", channel=FeedbackChannel.CLI)
    await store.feedback.resolve(confirmed, "failed over to the replica", author="alice")
    return {"confirmed": confirmed, "gateway": gateway, "failed": failed.record.id}


async def rows(page: Page) -> list[str]:
    return [t.strip() for t in await page.locator("table.list tbody tr td:nth-child(2) a").all_inner_texts()]


async def test_no_page_without_login_and_a_token_logs_in(page: Page, app: App) -> None:
    for path in ("/ui/investigations", "/ui/health", "/ui/memory", "/ui/costs"):
        await page.goto(app.url + path)
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        assert "/ui/login?next=" in page.url
    response = await page.request.get(
        app.url + "/ui/investigations/00000000-0000-0000-0000-000000000000/timeline"
    )
    assert response.status == 401  # the live fragment too

    await page.get_by_label("API token").fill("not-a-token-at-all-0000")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("that token is not valid")
    await accessible(page)
    await shoot(page, "login")

    await page.get_by_label("API token").fill(READER_TOKEN)
    await page.keyboard.press("Enter")  # the form works from the keyboard
    await expect(page.get_by_role("heading", name="Costs")).to_be_visible()  # back where we were going
    await expect(page.get_by_text("rey (read)")).to_be_visible()

    # An action without the session's CSRF token is refused; a forged cookie is no session.
    forged = await page.request.post(
        app.url + "/ui/memory/retire", form={"pattern_id": "1", "csrf": "x" * 64}
    )
    assert forged.status == 403 and "CSRF" in await forged.text()
    await page.context.add_cookies(
        [{"name": "compass_ui", "value": "forged.cookie.value", "url": app.url + "/ui"}]
    )
    await page.goto(app.url + "/ui/memory")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()


async def test_the_list_filters_and_searches(
    page: Page, app: App, store: KnowledgeStore, investigated: tuple[Incident, Verdict]
) -> None:
    ids = await seed(store, investigated)
    _, verdict = investigated
    await log_in(page, app)
    await expect(page.locator("#count")).to_have_text("3 investigations")
    await accessible(page)
    await shoot(page, "investigations")

    async def apply(**values: str) -> list[str]:
        await page.goto(app.url + "/ui/investigations")
        for field, value in values.items():
            locator = page.locator(f"#f-{field}")
            if await locator.evaluate("e => e.tagName") == "SELECT":
                await locator.select_option(value)
            else:
                await locator.fill(value)
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_load_state()
        return await rows(page)

    assert await apply(status="failed") == ["search errors after the deploy"]
    assert await apply(service="edge-gateway") == ["edge-gateway 5xx above 5%"]
    assert await apply(channel="C0INCIDENTS") == ["edge-gateway 5xx above 5%"]
    assert len(await apply(fault=verdict.root_causes[0].fault)) == 2
    assert await apply(q="5XX") == ["edge-gateway 5xx above 5%"]  # search ignores case
    assert await apply(q="5xx", status="failed") == []
    assert len(await apply(until=time.strftime("%Y-%m-%d", time.gmtime()))) == 3
    assert await apply(since="2099-01-01") == []
    bad = await page.request.get(app.url + "/ui/investigations?since=yesterday")
    assert bad.status == 400 and "invalid filter since" in await bad.text()
    assert ids["failed"]  # (used above through its symptom)


async def test_an_investigation_shows_its_evidence_with_grafana_links_and_feedback(
    page: Page, app: App, store: KnowledgeStore, investigated: tuple[Incident, Verdict]
) -> None:
    ids = await seed(store, investigated)
    incident, verdict = investigated
    await log_in(page, app)
    await page.get_by_role("link", name=incident.symptom).click()
    await page.wait_for_url(f"**/ui/investigations/{ids['confirmed']}")
    top = verdict.root_causes[0]
    await expect(page.get_by_role("heading", name="Verdict: root cause found")).to_be_visible()
    await expect(page.locator(".cause h4").first).to_contain_text(top.component)
    links = await page.locator("a.grafana").evaluate_all("els => els.map(e => e.href)")
    expected = [e.link for e in top.evidence if e.link]
    assert expected and all(link in links for link in expected)
    await expect(page.locator("code.query").first).to_have_text(top.evidence[0].query)
    await expect(page.get_by_text("✅ confirmed")).to_be_visible()
    await expect(page.get_by_text("failed over to the replica")).to_be_visible()
    if verdict.eliminated:
        await expect(page.get_by_role("heading", name="Eliminated, and why")).to_be_visible()
    await accessible(page)
    await shoot(page, "investigation")
    missing = await page.request.get(app.url + "/ui/investigations/not-an-id")
    assert missing.status == 400 and "is not an investigation id" in await missing.text()


async def test_a_running_investigation_updates_live(
    page: Page, app: App, store: KnowledgeStore, lab: LabServer, investigated: tuple[Incident, Verdict]
) -> None:
    incident, _ = investigated
    started = await store.investigations.start(
        idempotency_key="slack:live-1", incident=incident, trigger=Trigger.SLACK_THREAD,
        ownership=Ownership.team("payments"),
    )  # fmt: skip
    iid = started.record.id
    await log_in(page, app, path=f"/ui/investigations/{iid}")
    await expect(page.locator("#status")).to_have_text("running")
    await page.evaluate("window.__same_page = true")  # survives only if the page is never reloaded

    # The engine runs now, persisting as it goes (as the worker does); the open page follows it.
    result = await investigate_scenario(lab.url, SHOWCASE, Settings(), StoreSink(store.investigations, iid))
    await expect(page.locator("#status")).to_have_text("completed", timeout=15_000)
    await expect(page.get_by_role("heading", name="Verdict: root cause found")).to_be_visible()
    hypotheses = await page.locator("ol.hypotheses > li").count()
    snapshot = await store.investigations.snapshot(iid)
    assert hypotheses == len(snapshot.hypotheses) > 1
    # A sparkline of its evidence values for each hypothesis with two or more of them.
    with_series = sum(len([e for e in h.evidence if e.value is not None]) >= 2 for h in snapshot.hypotheses)
    assert with_series > 0
    await expect(page.locator("ol.hypotheses svg.sparkline")).to_have_count(with_series)
    await expect(page.locator(".cause h4").first).to_contain_text(result.verdict.root_causes[0].component)
    assert await page.evaluate("window.__same_page") is True
    assert await page.locator("#live").get_attribute("data-poll") is None  # polling stopped
    await shoot(page, "investigation-live", full_page=False)  # the top: status, verdict, first hypotheses


async def test_the_cost_chart_shows_the_right_totals(page: Page, app: App, store: KnowledgeStore) -> None:
    calls = [
        ("anthropic", "claude-haiku-4-5", "orient", Decimal("0.0123"), 1200, 300),
        ("anthropic", "claude-haiku-4-5", "summarize", Decimal("0.0200"), 2000, 500),
        ("openai", "gpt-4.1-mini", "decide", Decimal("0.5000"), 9000, 800),
        ("openai", "gpt-4.1-mini", "decide", None, 100, 10),  # unpriced: counted, never as $0
    ]
    for provider, model, phase, usd, tokens_in, tokens_out in calls:
        await store.costs.record(
            LlmCall(investigation_id=None, phase=phase, provider=provider, model=model, tokens_in=tokens_in,
                    tokens_out=tokens_out, usd=usd, latency_ms=800)
        )  # fmt: skip
    ledger = StoreLedger(store)
    await ledger.record_avoided(None, "orient", "the built-in engine was confident")
    await ledger.record_avoided(None, "summarize", "a known pattern matched")

    await log_in(page, app, path="/ui/costs")
    await expect(page.locator("#total-usd")).to_have_text("$0.53")
    await expect(page.locator("#total-calls")).to_have_text("4")
    await expect(page.locator("#calls-avoided")).to_have_text("2")
    chart = page.locator("svg.chart")
    await expect(chart).to_have_attribute("aria-label", re.compile(r"\$0\.53 in total"))
    titles = await chart.locator("rect title").evaluate_all("els => els.map(e => e.textContent)")
    assert any("claude-haiku-4-5: $0.0323" in t for t in titles)
    assert any("gpt-4.1-mini: $0.5000" in t for t in titles)
    await expect(page.locator("ul.legend")).to_contain_text("gpt-4.1-mini: $0.50")
    await expect(page.locator("#cost-table tbody tr")).to_have_count(3)  # day × model × phase
    await expect(page.locator("#cost-table")).to_contain_text("(+1 unpriced)")
    await accessible(page)
    await shoot(page, "costs")


async def test_the_health_page_shows_a_broken_mcp_server_as_broken(page: Page, app: App) -> None:
    await log_in(page, app, path="/ui/health")
    mcp = page.locator('tr[data-check="mcp grafana"]')
    await expect(mcp.locator(".badge")).to_have_text("✗ broken")
    await expect(page.locator('tr[data-check="redis"] .badge')).to_have_text("✓ ok")
    await expect(page.locator('tr[data-check="postgresql"] .badge')).to_have_text("✓ ok")
    await expect(page.locator('tr[data-check="migrations"] .badge')).to_have_text("✓ ok")
    await expect(page.locator('tr[data-check="queue"]')).to_contain_text("0 queued")
    skipped = await page.locator('tr[data-check="llm"] .badge').bounding_box()
    assert skipped is not None and skipped["x"] > 0  # on screen (not pushed away like a skip link)
    await expect(page.locator('tr[data-check="llm"] .badge')).to_have_text("– skipped")
    await expect(page.get_by_role("status")).to_contain_text("failing")
    await accessible(page)
    await shoot(page, "health")


async def test_admins_promote_and_retire_patterns_and_readers_cannot(
    page: Page, app: App, store: KnowledgeStore, investigated: tuple[Incident, Verdict]
) -> None:
    await seed(store, investigated)
    top = investigated[1].root_causes[0]
    await log_in(page, app, path="/ui/memory")
    org = page.locator("section", has=page.locator("#scope-org"))
    await expect(org).to_contain_text("Nothing learned in this scope yet.")
    await page.get_by_role("button", name=re.compile("^Promote to org")).first.click()
    await expect(page.get_by_role("status")).to_contain_text(f"promoted to org: {top.component} {top.fault}")
    await expect(org.locator("tbody tr")).to_have_count(1)
    await accessible(page)
    await shoot(page, "memory")
    await org.get_by_role("button", name=re.compile("^Retire")).click()
    await expect(page.get_by_role("status")).to_contain_text("retired from org")
    await expect(org).to_contain_text("Nothing learned in this scope yet.")

    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press("Tab")
    await expect(page.locator(":focus")).to_have_text("Skip to content")
    await page.keyboard.press("Enter")
    await expect(page.locator(":focus")).to_have_attribute("id", "main")

    reader = await page.context.browser.new_context()  # type: ignore[union-attr]
    other = await reader.new_page()
    await log_in(other, app, READER_TOKEN, path="/ui/memory")
    await expect(other.get_by_role("button", name=re.compile("Promote|Retire"))).to_have_count(0)
    csrf = await other.locator('input[name="csrf"]').first.get_attribute("value")
    form = {"csrf": csrf or "", "signature_id": "1", "to": "org"}
    refused = await other.request.post(app.url + "/ui/memory/promote", form=form)
    assert refused.status == 403
    await reader.close()
