"""What a registry server is configured with: the database, and where SQLite keeps its file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DATABASE_FILE = "registry.db"


def data_folder() -> Path:
    """The documented data folder: $PORTPLAN_DATA, else $XDG_DATA_HOME/portplan,
    else ~/.local/share/portplan."""
    explicit = os.environ.get("PORTPLAN_DATA")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "portplan"


def default_database_url() -> str:
    return f"sqlite:///{data_folder() / DATABASE_FILE}"


@dataclass(frozen=True)
class Settings:
    """`database_url`: a SQLAlchemy URL (sqlite:///PATH, postgresql://...); None = the
    SQLite file in the data folder. `migrate`: bring the schema up to date at start
    (an empty database is migrated either way)."""

    database_url: str | None = None
    migrate: bool = False
    pool_size: int = 10
    sweep_seconds: float = 1.0
    # how often a feed stream looks for changes no wake-up told it of
    feed_poll_seconds: float = field(
        default_factory=lambda: float(os.environ.get("PORTPLAN_FEED_POLL_SECONDS", "0.5"))
    )

    def url(self) -> str:
        return self.database_url or default_database_url()
