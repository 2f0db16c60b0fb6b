"""COMPASS' knowledge store: PostgreSQL + pgvector memory of investigations, feedback and patterns.

Start with `KnowledgeStore.open(KnowledgeSettings())`; see README.md in this folder.
"""

from compass_worker.domain.models import AnomalyStep
from compass_worker.knowledge.embedders import (
    EMBEDDING_DIMENSIONS,
    Embedder,
    HashingEmbedder,
    MiniLMEmbedder,
    OpenAICompatibleEmbedder,
)
from compass_worker.knowledge.errors import (
    DatabaseUnavailable,
    EmbeddingError,
    InvalidInput,
    MigrationError,
    NotFound,
    SchemaMismatch,
)
from compass_worker.knowledge.migrations import check_schema, migrate
from compass_worker.knowledge.priors import PriorPolicy
from compass_worker.knowledge.records import (
    Cause,
    CorrectionRecord,
    FeedbackChannel,
    HistoryEntry,
    InvestigationRecord,
    InvestigationSnapshot,
    InvestigationStatus,
    LlmCall,
    PriorAdjustment,
    SimilarIncident,
    StartedInvestigation,
    ToolCall,
    ToolCallStatus,
    Trigger,
)
from compass_worker.knowledge.redact import Redaction, Redactor
from compass_worker.knowledge.scope import Ownership, Scope, Viewer
from compass_worker.knowledge.settings import KnowledgeSettings
from compass_worker.knowledge.signature import IncidentSignature
from compass_worker.knowledge.sink import StoreSink
from compass_worker.knowledge.store import KnowledgeStore

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "AnomalyStep",
    "Cause",
    "CorrectionRecord",
    "DatabaseUnavailable",
    "Embedder",
    "EmbeddingError",
    "FeedbackChannel",
    "HashingEmbedder",
    "HistoryEntry",
    "IncidentSignature",
    "InvalidInput",
    "InvestigationRecord",
    "InvestigationSnapshot",
    "InvestigationStatus",
    "KnowledgeSettings",
    "KnowledgeStore",
    "LlmCall",
    "MigrationError",
    "MiniLMEmbedder",
    "NotFound",
    "OpenAICompatibleEmbedder",
    "Ownership",
    "PriorAdjustment",
    "PriorPolicy",
    "Redaction",
    "Redactor",
    "SchemaMismatch",
    "Scope",
    "SimilarIncident",
    "StartedInvestigation",
    "StoreSink",
    "ToolCall",
    "ToolCallStatus",
    "Trigger",
    "Viewer",
    "check_schema",
    "migrate",
]
