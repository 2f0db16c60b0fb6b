"""Test and benchmark helpers shipped with the bot: a fake Slack Web API, Slack request signing, and a
throw-away Redis server. Nothing in the running service imports this package."""

from compass_bot.testing.fake_slack import FakeSlack, SlackCall, SlackMessage
from compass_bot.testing.redis_server import RedisServer, redis_for_tests
from compass_bot.testing.signing import (
    action_request,
    event_request,
    mention_event,
    message_event,
    sign,
    slash_request,
    view_submission_request,
)

__all__ = [
    "FakeSlack",
    "RedisServer",
    "SlackCall",
    "SlackMessage",
    "action_request",
    "event_request",
    "mention_event",
    "message_event",
    "redis_for_tests",
    "sign",
    "slash_request",
    "view_submission_request",
]
