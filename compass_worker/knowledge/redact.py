"""Remove secrets and personal or customer data from text before it leaves its scope.

Used when a pattern is promoted to a wider scope and, by the LLM layer, before a prompt goes to a hosted
model. It errs on the side of removing too much: an over-redacted IP or version string costs little,
a leaked token costs a lot. Each finding is replaced by `[REDACTED:<kind>]`, so the text stays readable
("connection to [REDACTED:ip] refused") and the redaction is visible.

Rules, most specific first: private-key blocks, credentials in URLs, known token formats (AWS, GitHub,
Slack, Stripe, OpenAI/Anthropic, Google, Grafana, JWT, bearer/basic auth), `key=value` secrets, emails,
IPv4/IPv6 (validated), customer/account/tenant identifiers, UUIDs, card numbers (Luhn), international
phone numbers, and long high-entropy strings. Callers add their own customer-id patterns.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, JsonValue

_SECRET_KEYS = (
    r"password|passwd|pwd|pass|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token|"
    r"api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|auth|authorization|credentials?|"
    r"session[_-]?id|cookie|dsn|connection[_-]?string"
)
_SECRET_KEY_NAME = re.compile(rf"^(?:[\w.-]*[_.-])?(?:{_SECRET_KEYS})$", re.IGNORECASE)

_CUSTOMER_KEYS = r"customer|cust|tenant|account|acct|client|member|merchant|subscriber|user|org|organization"

Replacer = Callable[[re.Match[str]], str]


class Redaction(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str
    counts: dict[str, int]  # kind → how many were removed

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def _tag(kind: str) -> str:
    return f"[REDACTED:{kind}]"


class Redactor:
    """Stateless and thread-safe once built. `customer_patterns`: extra regexes for your own id formats."""

    def __init__(self, *, customer_patterns: Sequence[str] = ()) -> None:
        self._rules: list[tuple[str, re.Pattern[str], Replacer | None]] = []
        add = self._add
        add(
            "private_key",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
            flags=re.S,
        )
        add("credentials", r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")
        add("token", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")  # JWT
        add("token", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
        add("token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")
        add("token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}")
        add("token", r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+")
        add("token", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}")
        add("token", r"\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}")
        add("token", r"\bAIza[0-9A-Za-z_-]{35}")
        add("token", r"\bgl(?:sa|c|pat)_[A-Za-z0-9_=-]{16,}")
        add("token", r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}")
        add("token", r"(?i)(?<=\bbasic )[A-Za-z0-9+/=]{8,}")
        # key=value / key: value / "key": "value" — keep the key, drop the value.
        add(
            "secret",
            rf"""(?i)\b((?:[\w.-]*[_.-])?(?:{_SECRET_KEYS})["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&}}\]]+)""",
            replacer=lambda m: m.group(1) + _tag("secret"),
        )
        add("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
        add("ip", r"(?<![\w.:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![\w:])", check=_is_ipv6)
        add("ip", r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.])", check=_is_ipv4)
        add(
            "customer_id",
            rf"(?i)\b((?:{_CUSTOMER_KEYS})[ _-]?(?:id|no|number|key)?\s*[:=#]\s*)([^\s,;&]+)",
            replacer=lambda m: m.group(1) + _tag("customer_id"),
        )
        add("customer_id", rf"(?i)\b(?:{_CUSTOMER_KEYS}|cus|usr|acc)_[A-Za-z0-9]{{4,}}\b")
        for pattern in customer_patterns:
            add("customer_id", pattern)
        add("id", r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        add("card", r"\b(?:\d[ -]?){12,18}\d\b", check=_luhn)
        add("phone", r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(?\d{1,4}\)?[\s.-]?){2,5}\d{2,4}\b")
        add("secret", r"(?<![\w/])[A-Za-z0-9+/_=-]{32,}(?![\w/])", check=_high_entropy)

    def _add(
        self,
        kind: str,
        pattern: str,
        *,
        flags: int = 0,
        replacer: Replacer | None = None,
        check: Callable[[str], bool] | None = None,
    ) -> None:
        compiled = re.compile(pattern, flags)
        if check is not None:
            validate = check

            def replace(m: re.Match[str]) -> str:
                return _tag(kind) if validate(m.group(0)) else m.group(0)

            self._rules.append((kind, compiled, replace))
        else:
            self._rules.append((kind, compiled, replacer))

    def redact(self, text: str) -> Redaction:
        counts: Counter[str] = Counter()
        for kind, pattern, replacer in self._rules:
            tag = _tag(kind)

            def counted(
                m: re.Match[str], kind: str = kind, tag: str = tag, replacer: Replacer | None = replacer
            ) -> str:
                out = replacer(m) if replacer is not None else tag
                if out != m.group(0):
                    counts[kind] += 1
                return out

            text = pattern.sub(counted, text)
        return Redaction(text=text, counts=dict(counts))

    def redact_text(self, text: str) -> str:
        return self.redact(text).text

    def redact_json(self, value: JsonValue) -> JsonValue:
        """Redact every string in a JSON value; values under secret-named keys are dropped whole."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list):
            return [self.redact_json(v) for v in value]
        if isinstance(value, dict):
            return {
                k: _tag("secret") if _SECRET_KEY_NAME.match(k) and v is not None else self.redact_json(v)
                for k, v in value.items()
            }
        return value


def _is_ipv4(candidate: str) -> bool:
    try:
        ipaddress.ip_network(candidate, strict=False)
    except ValueError:
        return False
    return True


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _luhn(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _high_entropy(candidate: str) -> bool:
    """Random-looking: letters and digits mixed, ≥ 3.5 bits per character (identifiers rarely are)."""
    if not (any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)):
        return False
    counts = Counter(candidate)
    entropy = -sum(n / len(candidate) * math.log2(n / len(candidate)) for n in counts.values())
    return entropy >= 3.5
