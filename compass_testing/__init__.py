"""Fakes and throw-away servers for testing COMPASS and your own set-up of it (see README.md): a fake Slack
Web API, Slack request signing, fake Anthropic/OpenAI APIs, and private Redis and PostgreSQL + pgvector
servers, and Debian's chromium for browser tests. Nothing in the running service imports this package."""

from compass_testing.browser import chromium_for_tests
from compass_testing.fake_slack import FakeSlack, SlackCall, SlackMessage
from compass_testing.ports import free_port
from compass_testing.postgres import postgres_for_tests
from compass_testing.redis_server import RedisProcess, RedisServer, redis_for_tests, restartable_redis
from compass_testing.signing import (
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
    "RedisProcess",
    "RedisServer",
    "SlackCall",
    "SlackMessage",
    "action_request",
    "chromium_for_tests",
    "event_request",
    "free_port",
    "mention_event",
    "message_event",
    "postgres_for_tests",
    "redis_for_tests",
    "restartable_redis",
    "sign",
    "slash_request",
    "view_submission_request",
]
