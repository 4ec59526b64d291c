"""What the redactor finds: the kinds of sensitive value and the spans that hold them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """A kind of sensitive value; the name is the placeholder prefix, e.g. `[SSN_1]`."""

    SECRET = "SECRET"  # noqa: S105 - a kind name, not a password
    URL = "URL"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    ACCOUNT = "ACCOUNT"
    LICENSE = "LICENSE"
    DEVICE = "DEVICE"
    FAX = "FAX"
    PHONE = "PHONE"
    DATE = "DATE"
    NAME = "NAME"
    ADDRESS = "ADDRESS"
    ZIP = "ZIP"
    IP = "IP"


# When two findings overlap they become one span of the kind listed first: a secret inside a
# URL is reported as a secret, an email inside a URL as the URL.
_PRIORITY = {kind: rank for rank, kind in enumerate(Kind)}


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch `text[start:end]` to redact; never carries the value, so it is safe to log."""

    kind: Kind
    start: int
    end: int


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering every input span (overlaps are joined)."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, span.kind, key=_PRIORITY.__getitem__)
            merged[-1] = Span(kind, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged
