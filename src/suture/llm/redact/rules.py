"""Pattern rules and the text they scan; anchors keep a megabyte of log fast to scan.

A rule may name anchors: lowercase words, one of which occurs on every line the rule can match
(a label's words, a token's prefix). Only those lines are scanned with the full pattern; a
case-sensitive literal search over the lowercased text finds them far faster than any
case-insensitive pattern could scan the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .spans import Kind, Span


class Text:
    """The text being redacted, its lowercase twin, and where its lines are."""

    def __init__(self, text: str) -> None:
        self.text = text
        lowered = text.lower()
        # A few characters change length when lowercased; then anchors cannot be trusted.
        self.lowered = lowered if len(lowered) == len(text) else None

    def windows(self, anchors: re.Pattern[str]) -> list[tuple[int, int]] | None:
        """(start, end) of each line holding an anchor, or None when every line must be read."""
        if self.lowered is None:
            return None
        text = self.text
        found: list[tuple[int, int]] = []
        hit = anchors.search(self.lowered)
        while hit is not None:
            start = text.rfind("\n", 0, hit.start()) + 1
            end = text.find("\n", hit.end())
            end = len(text) if end == -1 else end
            if found and found[-1][1] >= start - 1:
                found[-1] = (found[-1][0], end)
            else:
                found.append((start, end))
            hit = anchors.search(self.lowered, end)
        return found


@dataclass(frozen=True)
class Rule:
    """A pattern whose group `v*` (or whole match) is a value of `kind`, if `accept` agrees."""

    kind: Kind
    pattern: re.Pattern[str]
    anchors: re.Pattern[str] | None = None
    accept: Callable[[str], bool] | None = None

    def find(self, text: Text) -> Iterator[Span]:
        """Spans of this rule's values in `text`."""
        windows = None if self.anchors is None else text.windows(self.anchors)
        if windows is None:
            windows = [(0, len(text.text))]
        groups = [g for g in self.pattern.groupindex if g.startswith("v")]
        for start, end in windows:
            for match in self.pattern.finditer(text.text, start, end):
                group = next((g for g in groups if match.group(g) is not None), 0)
                if self.accept is None or self.accept(match.group(group)):
                    yield Span(self.kind, *match.span(group))


def rule(kind: Kind, pattern: str, anchors: str | None = None,
         accept: Callable[[str], bool] | None = None) -> Rule:
    """A `Rule` from pattern text; `anchors` is `|`-separated lowercase literals."""
    compiled = None if anchors is None else re.compile("|".join(map(re.escape, anchors.split("|"))))
    return Rule(kind, re.compile(pattern), compiled, accept)
