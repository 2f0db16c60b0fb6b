"""The knowledge store's errors, placed in COMPASS' error tree (compass_worker.errors).

    ConfigError
    ├── InvalidInput          a caller passed something the store cannot accept (bad id, bad scope, ...)
    │   └── NotFound          the thing named does not exist (or is not visible in the caller's scope)
    ├── MigrationError        the migrations folder and the database disagree (edited, missing, out of order)
    └── SchemaMismatch        the database is not at the schema version this code expects
    ExternalError
    ├── DatabaseUnavailable   PostgreSQL cannot be reached or started
    └── EmbeddingError        the embedding model or endpoint failed

Messages are one line, fit to show a person as-is.
"""

from __future__ import annotations

from compass_worker.errors import ConfigError, ExternalError


class InvalidInput(ConfigError):
    """A caller passed a value the store cannot accept."""


class NotFound(InvalidInput):
    """The named record does not exist, or is not visible in the caller's scope."""


class MigrationError(ConfigError):
    """The migration files and the applied migrations disagree; nothing was changed."""


class SchemaMismatch(ConfigError):
    """The database schema is not the version this code was built for."""


class DatabaseUnavailable(ExternalError):
    """PostgreSQL cannot be reached (DATABASE_URL) or the embedded server cannot start."""


class EmbeddingError(ExternalError):
    """The embedding model could not be loaded or the embeddings endpoint failed."""
