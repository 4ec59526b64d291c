"""`--since` values: a duration back from now (`7d`, `12h`) or a UTC date or time (`2026-11-01`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from suture.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """The moment `value` names: `30m`, `12h`, `7d`, `2w` ago, or an ISO 8601 date/time (UTC)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(value)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {value!r} is neither a duration nor a date",
            hint="give e.g. 7d, 12h, 30m, 2w, 2026-11-01 or 2026-11-01T08:00:00Z",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
