"""The redactor against a seeded corpus: every planted secret is gone; operational text is untouched."""

from __future__ import annotations

import pytest
from pydantic import JsonValue

from compass_worker.knowledge import Redactor

# (text, the sensitive substrings planted in it)
SEEDED: list[tuple[str, list[str]]] = [
    ("db login failed for postgres://app:hunter2@10.2.3.4:5432/payments", ["hunter2", "10.2.3.4"]),
    ("password=S3cr3t!pass and api_key: 'abc123def456'", ["S3cr3t!pass", "abc123def456"]),
    ('{"token": "tok_9f8e7d6c5b4a", "user": "svc"}', ["tok_9f8e7d6c5b4a"]),
    (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
        ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ["eyJhbGciOiJIUzI1NiJ9", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
    ),
    ("aws key AKIAIOSFODNN7EXAMPLE leaked in logs", ["AKIAIOSFODNN7EXAMPLE"]),
    (
        "github token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
        ["ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"],
    ),
    ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", ["xoxb-123456789012"]),
    ("webhook https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", ["T000/B000/XXXXXXXXXXXXXXXX"]),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc failed", ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"]),
    ("openai key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345", ["sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345"]),
    ("anthropic sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv-xyz", ["sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv-xyz"]),
    ("grafana glsa_AbCdEfGhIjKlMnOpQrStUvWxYz012345_abcdef12", ["glsa_AbCdEfGhIjKlMnOpQrStUvWxYz012345"]),
    (
        "reported by jane.doe@example.com and ops+pager@corp.example.org",
        ["jane.doe@example.com", "ops+pager@corp.example.org"],
    ),
    ("client 192.168.10.25 and 172.16.0.1/24 timed out", ["192.168.10.25", "172.16.0.1"]),
    ("peer 2001:db8:85a3::8a2e:370:7334 and fe80::1%eth0 reset", ["2001:db8:85a3::8a2e:370:7334", "fe80::1"]),
    (
        "customer_id=CUST-88213 saw 500s; tenant: acme-corp; account #4411",
        ["CUST-88213", "acme-corp", "4411"],
    ),
    (
        "errors for cus_Nffrfeuf4UTwQb and acct_1032D82eZvKYlo2C",
        ["cus_Nffrfeuf4UTwQb", "acct_1032D82eZvKYlo2C"],
    ),
    ("order for user 7c9e6679-7425-40de-944b-e07fc1f90ae7 failed", ["7c9e6679-7425-40de-944b-e07fc1f90ae7"]),
    ("card 4111 1111 1111 1111 declined", ["4111 1111 1111 1111"]),
    ("call +44 20 7946 0958 for escalation", ["7946 0958"]),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----",
        ["MIIEpAIBAAKCAQEA7"],
    ),
    ("session cookie=a8f5f167f44f4964e6c998dee827110c", ["a8f5f167f44f4964e6c998dee827110c"]),
    (
        "random blob Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbA== in header",
        ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbA"],
    ),
    ('DSN=postgresql://u:p@db/x SECRET_KEY="topsecretvalue"', ["topsecretvalue", "u:p@"]),
]

# Operational text that must survive unchanged: it is what makes a pattern useful.
CLEAN = [
    "checkout p99 latency is spiking since 14:02:33",
    "payments-db db_slow_queries; payments-api db_connection_pool_exhaustion",
    "histogram_quantile(0.99, sum by (le) "
    '(rate(http_server_duration_seconds_bucket{service_name="checkout"}[5m])))',
    '{service_name="checkout"} |= "timeout acquiring connection"',
    "restarted pod checkout-7d9f8b6c5-x2x9q after OOMKilled",
    "failed over payments-db to the replica at 2026-11-02T14:20:00Z",
]


@pytest.mark.parametrize(("text", "secrets"), SEEDED)
def test_nothing_sensitive_survives(text: str, secrets: list[str]) -> None:
    redaction = Redactor().redact(text)
    for secret in secrets:
        assert secret not in redaction.text, redaction.text
    assert "[REDACTED:" in redaction.text and redaction.changed


@pytest.mark.parametrize("text", CLEAN)
def test_operational_text_is_left_alone(text: str) -> None:
    assert Redactor().redact_text(text) == text


def test_key_names_stay_readable() -> None:
    assert Redactor().redact_text("password=hunter2 retry") == "password=[REDACTED:secret] retry"
    assert Redactor().redact_text("mail bob@example.com") == "mail [REDACTED:email]"


def test_custom_customer_patterns() -> None:
    redactor = Redactor(customer_patterns=[r"\bACME-\d{5}\b"])
    assert redactor.redact_text("ticket from ACME-12345") == "ticket from [REDACTED:customer_id]"


def test_json_values_under_secret_keys_are_dropped_whole() -> None:
    value: JsonValue = {
        "query": 'up{instance="10.0.0.7:9100"}',
        "headers": {"X-Api-Key": "plain", "n": 3},
        "ok": True,
    }
    assert Redactor().redact_json(value) == {
        "query": 'up{instance="[REDACTED:ip]:9100"}',
        "headers": {"X-Api-Key": "[REDACTED:secret]", "n": 3},
        "ok": True,
    }


def test_counts_by_kind() -> None:
    assert Redactor().redact("a@b.io c@d.io 10.0.0.1").counts == {"email": 2, "ip": 1}
