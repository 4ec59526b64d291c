"""The run store: every run, its stages and findings, in SQLite or PostgreSQL."""

from suture.store.runs import RunStore, open_store

__all__ = ["RunStore", "open_store"]
