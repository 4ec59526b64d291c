"""In-memory, thread-safe resource store."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from app.models import Meta, Resource

R = TypeVar("R", bound=Resource)


class NotFound(LookupError):
    """No resource of that type has that id."""

    def __init__(self, resource_type: str, resource_id: str) -> None:
        super().__init__(f"{resource_type}/{resource_id} is not known to this server")
        self.resource_type = resource_type
        self.resource_id = resource_id


class Store:
    """Resources kept by (type, id); every method is safe to call from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], Resource] = {}

    def create(self, resource: R) -> R:
        """Store a copy of resource under a new server-assigned id and version 1."""
        meta = Meta(versionId="1", lastUpdated=datetime.now(UTC))
        stored = resource.model_copy(update={"id": str(uuid.uuid4()), "meta": meta}, deep=True)
        with self._lock:
            self._items[(type(stored).__name__, stored.id)] = stored
        return stored

    def read(self, kind: type[R], resource_id: str) -> R:
        """The resource of that type and id; raises NotFound."""
        with self._lock:
            found = self._items.get((kind.__name__, resource_id))
        if not isinstance(found, kind):
            raise NotFound(kind.__name__, resource_id)
        return found

    def search(self, kind: type[R], where: Callable[[R], bool]) -> list[R]:
        """Resources of that type for which where() is true, oldest first."""
        with self._lock:
            candidates = [r for r in self._items.values() if isinstance(r, kind)]
        return [r for r in candidates if where(r)]
