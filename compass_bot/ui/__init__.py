"""The web dashboard at /ui: investigations, evidence, costs, memory and health (see README.md)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from compass_bot.settings import BotSettings
from compass_bot.ui.pages import Dashboard, build_router
from compass_bot.ui.settings import UiConfigError, UiSettings, load_ui_settings
from compass_bot.ui.store import LazyStore

STATIC = Path(__file__).parent / "static"

__all__ = ["Dashboard", "UiConfigError", "UiSettings", "load_ui_settings", "mount_ui"]


def mount_ui(
    api: FastAPI, bot: BotSettings, settings: UiSettings, store: LazyStore | None = None
) -> Dashboard:
    """Serve the dashboard from `api` under /ui; the caller closes `dashboard.store` on shutdown."""
    dashboard = Dashboard(settings=settings, bot=bot, store=store or LazyStore())
    api.include_router(build_router(dashboard))
    api.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    return dashboard
