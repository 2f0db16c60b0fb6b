"""Reasoners: the built-in engine needs none; an LLM behind `Reasoner` widens the search and writes
summaries. See README.md."""
