"""The dashboard's settings and sessions: a bad value is one line naming the variable; a session is only as
good as its token."""

from __future__ import annotations

import subprocess
import sys

import pytest

from compass_bot.ui.auth import Authenticator
from compass_bot.ui.settings import TokenScope, UiConfigError, UiSettings, load_ui_settings

TOKEN = "token-of-ada-0123456789"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ada:boss:" + TOKEN, "scope 'boss' of ada is not one of read, feedback, admin"),
        ("ada:admin", "each entry must be name:scope:token"),
        ("ada:admin:short", "the token of ada is shorter than 16 characters"),
        (f"ada:admin:{TOKEN},ada:read:{TOKEN}x", "a name appears twice"),
    ],
)
def test_a_bad_token_list_is_one_line_naming_the_variable(
    raw: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPASS_UI_TOKENS", raw)
    with pytest.raises(UiConfigError, match=rf"^invalid setting COMPASS_UI_TOKENS: {message}$"):
        load_ui_settings()


def test_sessions_end_when_their_token_goes_and_csrf_is_per_session() -> None:
    settings = UiSettings(tokens=f"ada:admin:{TOKEN}", secret="s" * 32)  # type: ignore[arg-type]
    auth = Authenticator(settings)
    assert auth.login("wrong-token-0123456789") is None
    session = auth.login(TOKEN)
    assert session is not None and session.scope is TokenScope.ADMIN
    cookie = auth.cookie(session)
    assert auth.session(cookie) == session
    assert auth.session(cookie[:-2] + "xx") is None  # tampered
    assert auth.csrf_ok(session, auth.csrf_token(session))
    other = auth.login(TOKEN)
    assert other is not None and not auth.csrf_ok(other, auth.csrf_token(session))

    rotated = Authenticator(UiSettings(tokens=f"ada:admin:{TOKEN}-new", secret="s" * 32))  # type: ignore[arg-type]
    assert rotated.session(cookie) is None  # the token was changed: its sessions are over
    other_key = Authenticator(UiSettings(tokens=f"ada:admin:{TOKEN}", secret="t" * 32))  # type: ignore[arg-type]
    assert other_key.session(cookie) is None


@pytest.mark.slow  # a fresh interpreter importing the worker's modules: seconds on a busy machine
def test_the_dashboard_loads_the_store_only_when_opened_and_never_the_engine() -> None:
    code = (
        "import os, sys\n"
        "os.environ.update(SLACK_BOT_TOKEN='xoxb-1', SLACK_SIGNING_SECRET='s')\n"
        "from compass_bot.app import create_app\n"
        "from compass_bot.settings import load_bot_settings\n"
        "create_app(load_bot_settings())\n"
        "mounted = [m for m in ('asyncpg', 'mcp', 'compass_worker.knowledge') if m in sys.modules]\n"
        "import compass_bot.ui.health, compass_bot.ui.pages, compass_worker.knowledge.dashboard\n"
        "import compass_worker.reasoners.factory\n"  # what the Health page's LLM check loads
        "above = ('compass_worker.engine', 'compass_worker.service')\n"
        "engine = [m for m in sys.modules if m.startswith(above)]\n"
        "print(mounted, engine)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"


async def test_an_unreachable_store_is_a_503_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from compass_bot.app import create_app
    from compass_bot.settings import load_bot_settings

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("COMPASS_UI_TOKENS", f"ada:read:{TOKEN}")
    monkeypatch.setenv("DATABASE_URL", "postgresql://compass@127.0.0.1:9/compass")  # nothing listens there
    transport = httpx.ASGITransport(app=create_app(load_bot_settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
        assert (await client.get("/ui/investigations")).status_code == 303  # to the login page
        login = await client.post("/ui/login", data={"token": TOKEN, "next": "/ui/investigations"})
        assert login.status_code == 303 and login.headers["location"] == "/ui/investigations"
        page = await client.get("/ui/investigations")
        assert page.status_code == 503
        assert "the knowledge store is unavailable:" in page.text and "Traceback" not in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
