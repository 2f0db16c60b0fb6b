"""Questions over past incidents ("database outages this week"): parsed into filters without an LLM
(optionally widened by one), run within the asker's scope, answered with links."""

from compass_worker.questions.answer import answer_lines
from compass_worker.questions.parse import parse_question
from compass_worker.questions.query import Question
from compass_worker.questions.search import Match, known_names, search

__all__ = ["Match", "Question", "answer_lines", "known_names", "parse_question", "search"]
