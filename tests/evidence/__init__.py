"""Shared test helpers for tests/evidence."""
