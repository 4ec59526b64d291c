"""The one redaction step every LLM request passes through: PHI and secrets become placeholders.

    >>> r = Redactor()
    >>> r.redact("SSN 123-45-6789, again 123-45-6789")
    'SSN [SSN_1], again [SSN_1]'

Placeholders are stable within one `Redactor` (same value, same placeholder), so a model can
still reason about "the same patient"; they never contain the value. Once a value has been
found (say a name after `patient:`), every later occurrence of it is redacted too, labelled or
not, in this text and in later texts given to the same `Redactor`.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

from .phi import find_phi
from .rules import Text
from .secrets import find_secrets
from .spans import Kind, Span, merge

__all__ = ["Kind", "Redactor", "Span", "redact"]

_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(k.value for k in Kind) + r")_\d+\]")
_MIN_ECHO = 4  # shorter values are too common as plain text to hunt for everywhere
_MIN_NAME_PART = 3
_MIN_SECRET_ECHO = 6
_MAX_ECHO = 500


class Redactor:
    """Replaces PHI and secrets with stable placeholders; one instance per request/diagnosis.

    Not thread-safe: it remembers the values it has replaced, so share it only within one
    request or one diagnosis.
    """

    def __init__(self) -> None:
        self._placeholders: dict[tuple[Kind, str], str] = {}
        self._numbers: Counter[Kind] = Counter()
        self._echoes: dict[str, Kind] = {}

    def __repr__(self) -> str:
        return f"Redactor(counts={self.counts})"

    @property
    def counts(self) -> dict[str, int]:
        """Kind -> number of distinct values replaced so far."""
        return {kind.value: n for kind, n in self._numbers.items() if n}

    def spans(self, text: str) -> list[Span]:
        """What `redact` would replace in `text`, sorted and non-overlapping; nothing is kept."""
        scanned = Text(text)
        found = [*find_secrets(text, scanned), *find_phi(text, scanned)]
        echoes = dict(self._echoes)
        for span in found:
            for value in _echo_values(span.kind, text[span.start:span.end]):
                echoes.setdefault(value, span.kind)
        found.extend(_find_echoes(text, echoes))
        shields = [m.span() for m in _PLACEHOLDER.finditer(text)]
        if shields:
            # Text that was redacted before keeps its placeholders as they are.
            starts = [start for start, _ in shields]
            found = [s for s in found if not _inside_any(s, starts, shields)]
        return merge(found)

    def redact(self, text: str) -> str:
        """`text` with every PHI and secret value replaced by its placeholder, e.g. `[SSN_1]`."""
        parts: list[str] = []
        position = 0
        for span in self.spans(text):
            value = text[span.start:span.end]
            parts.append(text[position:span.start])
            parts.append(self._placeholder(span.kind, value))
            position = span.end
            for echo in _echo_values(span.kind, value):
                self._echoes.setdefault(echo, span.kind)
        parts.append(text[position:])
        return "".join(parts)

    def _placeholder(self, kind: Kind, value: str) -> str:
        key = (kind, _normal(kind, value))
        placeholder = self._placeholders.get(key)
        if placeholder is None:
            self._numbers[kind] += 1
            placeholder = self._placeholders[key] = f"[{kind.value}_{self._numbers[kind]}]"
        return placeholder


def redact(text: str) -> str:
    """One-shot redaction of `text` with a fresh `Redactor`."""
    return Redactor().redact(text)


def _normal(kind: Kind, value: str) -> str:
    """The form under which two spellings of one value share a placeholder."""
    if kind in (Kind.SSN, Kind.PHONE, Kind.FAX):
        return re.sub(r"\D", "", value)
    if kind in (Kind.EMAIL, Kind.NAME, Kind.ADDRESS):
        return " ".join(value.casefold().split())
    return value


def _echo_values(kind: Kind, value: str) -> list[str]:
    """Values to look for elsewhere once `value` was found: itself, and a name's parts."""
    value = value.strip()
    if "\n" in value or not _MIN_ECHO <= len(value) <= _MAX_ECHO or _PLACEHOLDER.search(value):
        return []
    if kind is Kind.SECRET and (len(value) < _MIN_SECRET_ECHO or value.isalpha()):
        return []  # a word like "token" after `token=` must not vanish everywhere
    values = [value]
    if kind is Kind.NAME:
        values += [p for p in re.split(r"[\s,]+", value) if len(p) >= _MIN_NAME_PART]
    return values


def _find_echoes(text: str, echoes: dict[str, Kind]) -> list[Span]:
    """Every whole-word occurrence of a known value (plain `find`: exact, and fast enough)."""
    found = []
    for value, kind in echoes.items():
        at = text.find(value)
        while at != -1:
            end = at + len(value)
            if not _word_at(text, at - 1) and not _word_at(text, end):
                found.append(Span(kind, at, end))
            at = text.find(value, at + 1)
    return found


def _word_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _inside_any(span: Span, starts: list[int], shields: list[tuple[int, int]]) -> bool:
    """True when `span` lies within one of the sorted, disjoint `shields` (`starts` = theirs)."""
    index = bisect.bisect_right(starts, span.start) - 1
    return index >= 0 and shields[index][1] >= span.end
