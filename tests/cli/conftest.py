"""The fake LLM vendor APIs (one server per session, script reset per test) for the CLI's black-box tests."""

from __future__ import annotations
