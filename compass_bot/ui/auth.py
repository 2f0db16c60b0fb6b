"""Login by token, sessions in signed cookies, CSRF tokens for actions.

A token from COMPASS_UI_TOKENS is exchanged once for a session cookie signed with COMPASS_UI_SECRET
(itsdangerous, timestamped: it expires after COMPASS_UI_SESSION_HOURS). The cookie carries the token's
name, scope, a random session id and a fingerprint of the token, and every request checks that fingerprint
against the tokens configured *now* — so removing or changing a token ends its sessions at the next restart.
The token itself never leaves the login form.

CSRF: every form that changes something carries `csrf`, an HMAC of the session id; a POST without the right
one is refused (403). The cookie is HttpOnly and SameSite=Lax, so another site cannot read or post it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict

from compass_bot.ui.settings import TokenScope, UiSettings, UiToken

COOKIE = "compass_ui"


class Session(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    scope: TokenScope
    sid: str
    fingerprint: str

    @property
    def is_admin(self) -> bool:
        return self.scope is TokenScope.ADMIN


def _fingerprint(token: UiToken) -> str:
    digest = hashlib.sha256(f"{token.name}:{token.scope}:{token.token.get_secret_value()}".encode())
    return digest.hexdigest()[:32]


class Authenticator:
    def __init__(self, settings: UiSettings) -> None:
        self._tokens = settings.tokens
        self._key = settings.secret.get_secret_value().encode()
        self._serializer = URLSafeTimedSerializer(
            settings.secret.get_secret_value(), salt="compass-ui-session"
        )
        self.max_age_s = int(settings.session_hours * 3600)

    @property
    def configured(self) -> bool:
        return bool(self._tokens)

    def login(self, presented: str) -> Session | None:
        """The session for a configured token, None for anything else (compared in constant time)."""
        found: UiToken | None = None
        for token in self._tokens:  # no early exit: the time taken does not say which entry matched
            if hmac.compare_digest(presented.encode(), token.token.get_secret_value().encode()):
                found = token
        if found is None:
            return None
        return Session(
            name=found.name, scope=found.scope, sid=secrets.token_urlsafe(16), fingerprint=_fingerprint(found)
        )

    def cookie(self, session: Session) -> str:
        return self._serializer.dumps(session.model_dump(mode="json"))

    def session(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, if it is ours, unexpired, and its token is still configured."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
            session = Session.model_validate(data)
        except (BadSignature, ValueError):
            return None
        if not any(_fingerprint(t) == session.fingerprint for t in self._tokens):
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._key, f"csrf:{session.sid}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf_token(session))
