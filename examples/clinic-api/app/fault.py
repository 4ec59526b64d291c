"""Fault injection for deploy demos and tests: `fault.json` turns a release into a bad one.

The served application reads `fault.json` next to `suture.yml` once, when the process starts (a
release is a process start), or the file named by CLINIC_FAULT_FILE. Absent or empty means
healthy. A share of requests then answers 500 and every request gets slower, except the health
probe: a bad release passes its health checks and has to be caught on its traffic, as in life.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import outcome

FAULT_FILE_ENV = "CLINIC_FAULT_FILE"
DEFAULT_FAULT_FILE = Path(__file__).resolve().parent.parent / "fault.json"
HEALTH_PATHS = frozenset({"/healthz"})
EXAMPLE = '{"error_rate": 0.05, "extra_latency_s": 0.2}'


class FaultFileError(ValueError):
    """fault.json exists but cannot be used; the application refuses to start."""


class FaultSettings(BaseModel):
    """How badly this release behaves: share of requests failing, latency added to each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: float = Field(default=0.0, ge=0, le=1)
    extra_latency_s: float = Field(default=0.0, ge=0, le=60)

    @property
    def active(self) -> bool:
        """Whether any fault is injected at all."""
        return self.error_rate > 0 or self.extra_latency_s > 0


def fault_file() -> Path:
    """The file fault settings come from: CLINIC_FAULT_FILE if set, else the project's."""
    override = os.environ.get(FAULT_FILE_ENV)
    if not override:
        return DEFAULT_FAULT_FILE
    path = Path(override)
    if not path.is_file():
        raise FaultFileError(f"{FAULT_FILE_ENV}={override} names no file")
    return path


def load_faults(path: Path | None = None) -> FaultSettings:
    """Fault settings from `path` (default: fault_file()); healthy when absent or empty."""
    path = path or fault_file()
    if not path.is_file():
        return FaultSettings()
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return FaultSettings()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FaultFileError(f"{path}: not valid JSON ({exc}); expected e.g. {EXAMPLE}") from None
    try:
        return FaultSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'fault settings'}: {e['msg']}"
            for e in exc.errors()
        )
        raise FaultFileError(f"{path}: {problems}; expected e.g. {EXAMPLE}") from None


def _draw() -> float:
    # Which requests fail only shapes demo traffic; nothing secret or security-relevant
    # depends on it, so the standard PRNG is the right tool.
    return random.random()  # noqa: S311 # nosec B311


class FaultMiddleware:
    """ASGI middleware that delays requests and fails a share of them with a 500 outcome."""

    def __init__(
        self, app: ASGIApp, faults: FaultSettings, draw: Callable[[], float] = _draw
    ) -> None:
        self.app = app
        self.faults = faults
        self.draw = draw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, worse than the application would."""
        if scope["type"] != "http" or scope["path"] in HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        if self.faults.extra_latency_s:
            await asyncio.sleep(self.faults.extra_latency_s)
        # draw() is uniform on [0, 1), so the expected share of failures is exactly error_rate.
        if self.draw() < self.faults.error_rate:
            response = outcome(500, "exception", "Injected fault (fault.json error_rate).")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
