"""The price table: bundled data, user overrides, prefix families, unknown models never priced at $0."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from compass_worker.cost.prices import PriceTable
from compass_worker.cost.usage import TokenUsage
from compass_worker.errors import ConfigError


def test_bundled_prices_and_families() -> None:
    t = PriceTable.load()
    usage = TokenUsage(input_tokens=1_000_000, output_tokens=100_000, cached_tokens=400_000)
    # haiku 4.5: 600k × $1 + 400k × $0.10 + 100k × $5 per million
    assert t.usd("anthropic", "claude-haiku-4-5-20251001", usage) == Decimal("1.140000")
    assert t.price("openai", "gpt-4o-mini-2024-07-18") != t.price("openai", "gpt-4o")  # longest prefix wins
    assert t.usd("ollama", "llama3.1:8b", usage) == Decimal(0)  # explicitly free, not assumed
    assert t.usd("anthropic", "claude-next-9", usage) is None
    assert t.usd("openai", "some-new-model", usage) is None


def test_user_table_overrides_and_extends(tmp_path: Path) -> None:
    f = tmp_path / "prices.toml"
    f.write_text(
        '[models."openai:some-new-model"]\ninput = 2\noutput = 4\n'
        '[models."anthropic:claude-haiku-4-5*"]\ninput = 10\noutput = 10\n'
    )
    t = PriceTable.load(f)
    assert t.usd(
        "openai", "some-new-model", TokenUsage(input_tokens=500_000, output_tokens=250_000)
    ) == Decimal(2)
    assert t.usd("anthropic", "claude-haiku-4-5", TokenUsage(input_tokens=1_000_000)) == Decimal(10)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[models", "not valid TOML"),
        ('[models."gpt"]\ninput=1\noutput=1', "provider"),
        ('[models."openai:x"]\ninput=-1\noutput=1', "openai:x"),
        ('[models."openai:x"]\ninput=1', "output"),
    ],
)
def test_bad_tables_are_one_line_config_errors(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "p.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        PriceTable.load(f)
    assert "\n" not in str(err.value).strip()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read price table"):
        PriceTable.load(tmp_path / "absent.toml")
