"""Who may post alerts: a bearer token or an HMAC-SHA256 of the body, configured per source.

Both are compared in constant time (`hmac.compare_digest`). Alertmanager sends the bearer token from its
`http_config.authorization`; Grafana's webhook contact point can sign the body
(`X-Grafana-Alerting-Signature`) or send a bearer token. A source with neither configured accepts nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

SIGNATURE_HEADERS = ("x-compass-signature", "x-grafana-alerting-signature")


@dataclass(frozen=True)
class SourceAuth:
    bearer_token: str | None = None
    hmac_secret: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.bearer_token or self.hmac_secret)

    def refusal(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """None when the request is authentic, else the reason (said in the 401, never which part matched)."""
        if self.bearer_token:
            scheme, _, presented = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                presented.strip().encode(), self.bearer_token.encode()
            ):
                return None
        if self.hmac_secret:
            expected = hmac.new(self.hmac_secret.encode(), body, hashlib.sha256).hexdigest()
            for name in SIGNATURE_HEADERS:
                presented = headers.get(name, "").strip().removeprefix("sha256=")
                if presented and hmac.compare_digest(presented.lower().encode(), expected.encode()):
                    return None
        return "missing or invalid credentials (a bearer token or an HMAC-SHA256 signature of the body)"


def sign(secret: str, body: bytes) -> str:
    """The signature header value a sender puts on `body` (tests, benchmarks, and scripts use this)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
