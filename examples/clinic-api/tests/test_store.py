"""The store keeps every resource when many threads write at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from app.models import Patient
from app.store import NotFound, Store


def test_concurrent_creates_keep_every_resource_with_unique_ids() -> None:
    store = Store()
    patient = Patient(resourceType="Patient", gender="unknown")

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda _: store.create(patient), range(400)))

    ids = {p.id for p in created}
    assert len(ids) == 400
    assert len(store.search(Patient, lambda _: True)) == 400
    assert patient.id is None  # the caller's object is never mutated


def test_read_unknown_raises_not_found_naming_the_resource() -> None:
    with pytest.raises(NotFound, match="Patient/x is not known"):
        Store().read(Patient, "x")
