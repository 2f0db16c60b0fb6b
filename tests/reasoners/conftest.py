"""The fake LLM vendor APIs come from tests/conftest.py (`fake_llm_server`, `fake_llm`)."""
