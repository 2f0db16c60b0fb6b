"""Block Kit builders (pure functions of small view records); the worker's Slack sink uses them too."""

from compass_worker.slack.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, Block
from compass_worker.slack.cost import CostLine, CostReportView, cost_blocks
from compass_worker.slack.replies import FollowUpItem, follow_up_blocks
from compass_worker.slack.status import INITIAL_TEXT, initial_status, status_blocks, status_text
from compass_worker.slack.verdict import CONFIRM_ACTION, WRONG_ACTION, verdict_blocks, verdict_title
from compass_worker.slack.views import CauseView, EliminatedView, EvidenceLine, StatusView, VerdictView

__all__ = [
    "CONFIRM_ACTION",
    "INITIAL_TEXT",
    "MAX_BLOCKS",
    "MAX_SECTION_TEXT",
    "WRONG_ACTION",
    "Block",
    "CauseView",
    "CostLine",
    "CostReportView",
    "EliminatedView",
    "EvidenceLine",
    "FollowUpItem",
    "StatusView",
    "VerdictView",
    "cost_blocks",
    "follow_up_blocks",
    "initial_status",
    "status_blocks",
    "status_text",
    "verdict_blocks",
    "verdict_title",
]
