"""portplan: one source of truth for a system's ports and topology."""

from __future__ import annotations

__version__ = "0.1.0"
