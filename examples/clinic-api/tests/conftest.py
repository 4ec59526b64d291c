"""Shared fixture: a fresh application per test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture
def client() -> TestClient:
    """A client for an application with an empty store."""
    return TestClient(create_app())
