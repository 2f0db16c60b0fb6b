"""What the dashboard's browser tests share: the tokens, the lab scenario, logging in."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page

from compass_lab.scenarios import DEFAULT_SCENARIO_ID, get_scenario

SHOWCASE = get_scenario(DEFAULT_SCENARIO_ID)
USER = getpass.getuser()
ADMIN_TOKEN = "admin-token-0123456789abcdef"
READER_TOKEN = "reader-token-0123456789abcdef"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass(frozen=True)
class App:
    url: str


async def log_in(page: Page, app: App, token: str = ADMIN_TOKEN, path: str = "/ui/investigations") -> None:
    await page.goto(app.url + path)
    await page.get_by_label("API token").fill(token)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"**{path}*")
