"""Slack listeners: mentions, thread replies, verdict buttons and the modal, `/compass`."""

from slack_bolt.async_app import AsyncApp

from compass_bot.listeners import commands, feedback, mentions, messages
from compass_bot.listeners.dedupe import dedupe_middleware
from compass_bot.listeners.deps import Deps


def register_all(app: AsyncApp, deps: Deps) -> None:
    app.middleware(dedupe_middleware(deps))
    mentions.register(app, deps)
    messages.register(app, deps)
    feedback.register(app, deps)
    commands.register(app, deps)


__all__ = ["Deps", "register_all"]
