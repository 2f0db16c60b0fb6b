"""Post-mortem drafts from an investigation's record: a deterministic template, optionally with prose
written by an LLM from the record alone (every claim citing an evidence id, validated before use)."""

from compass_worker.postmortem.markdown import render_markdown
from compass_worker.postmortem.prose import Prose, ProseWriter
from compass_worker.postmortem.record import PostmortemRecord, load_record

__all__ = ["PostmortemRecord", "Prose", "ProseWriter", "load_record", "render_markdown"]
