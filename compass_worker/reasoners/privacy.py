"""What may leave the machine: every string bound for a model passes through the knowledge `Redactor`.

Secrets, tokens, passwords, emails, IPs, customer ids, UUIDs, card and phone numbers and high-entropy
strings are replaced by `[REDACTED:<kind>]`; on top, long numeric ids (9+ digits: order, account and
trace numbers) are removed here. Numbers the engine computed (baselines, peaks, z) are JSON numbers,
not strings, and pass unchanged. A local model (Ollama) may be exempted with COMPASS_LLM_REDACT_LOCAL=false.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import JsonValue

from compass_worker.knowledge.redact import Redactor

LONG_NUMERIC_ID = r"(?<![\w.])\d{9,}(?![\w.])"


class RedactionPolicy:
    def __init__(self, *, redact_local: bool = True, extra_patterns: Sequence[str] = ()) -> None:
        self._redactor = Redactor(customer_patterns=(LONG_NUMERIC_ID, *extra_patterns))
        self._redact_local = redact_local

    def applies(self, hosted: bool) -> bool:
        return hosted or self._redact_local

    def clean(self, value: JsonValue, *, hosted: bool) -> JsonValue:
        return self._redactor.redact_json(value) if self.applies(hosted) else value

    def clean_text(self, text: str, *, hosted: bool) -> str:
        return self._redactor.redact_text(text) if self.applies(hosted) else text
