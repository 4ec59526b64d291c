"""PHI inside structured health data that shows up in logs: FHIR JSON and HL7 v2 segments."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .spans import Kind, Span

_Q = r"[\"']"
_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.){1,200})\"|'((?:[^'\\\n]|\\.){1,200})'")

# FHIR ContactPoint: {"system": "fax", "value": "..."}, keys in any order, possibly spread over
# lines that a log or pytest prefixes ("E   ").
_TELECOM_KINDS = {"phone": Kind.PHONE, "fax": Kind.FAX, "email": Kind.EMAIL, "pager": Kind.PHONE,
                  "sms": Kind.PHONE, "url": Kind.URL, "other": Kind.PHONE}
_SYSTEM = re.compile(rf"{_Q}system{_Q}\s*:\s*{_Q}(?P<system>[a-z]+){_Q}")
_VALUE = re.compile(rf"{_Q}value{_Q}\s*:\s*{_Q}(?P<v>[^\"'\n]+){_Q}")
_REACH = 400  # how far from "system" its "value" may sit within one object

# Arrays of strings that are PHI element by element: HumanName.given, Address.line.
_STRING_LISTS = [
    (Kind.NAME, re.compile(rf"{_Q}given{_Q}\s*:\s*\[(?P<body>[^\]]{{0,1000}})\]")),
    (Kind.ADDRESS, re.compile(rf"{_Q}line{_Q}\s*:\s*\[(?P<body>[^\]]{{0,1000}})\]")),
]
_IDENTIFIER = re.compile(rf"{_Q}identifier{_Q}\s*:\s*\[")
_IDENTIFIER_VALUE = re.compile(rf"{_Q}value{_Q}\s*:\s*{_Q}(?P<v>[^\"'\n]+){_Q}")
_SSN_SYSTEM = re.compile(r"us-ssn|2\.16\.840\.1\.113883\.4\.1\b|\"SS\"")

# HL7 v2: field number -> kind, for the segments that describe a person.
_HL7_FIELDS = {
    "PID": {2: Kind.MRN, 3: Kind.MRN, 4: Kind.MRN, 5: Kind.NAME, 6: Kind.NAME, 7: Kind.DATE,
            9: Kind.NAME, 11: Kind.ADDRESS, 12: Kind.ADDRESS, 13: Kind.PHONE, 14: Kind.PHONE,
            18: Kind.ACCOUNT, 19: Kind.SSN, 20: Kind.LICENSE, 21: Kind.MRN, 29: Kind.DATE},
    "NK1": {2: Kind.NAME, 4: Kind.ADDRESS, 5: Kind.PHONE, 6: Kind.PHONE},
    "IN1": {16: Kind.NAME, 18: Kind.DATE, 19: Kind.ADDRESS, 36: Kind.ACCOUNT, 49: Kind.ACCOUNT},
}
_HL7_SEGMENT = re.compile(r"(?:^|(?<=[\r\n]))(?P<seg>PID|NK1|IN1)\|[^\r\n]*", re.MULTILINE)


def find_structured(text: str) -> Iterator[Span]:
    """Spans of PHI in FHIR JSON fields and HL7 v2 PID / NK1 / IN1 segments."""
    # Cheap membership tests first: most logs hold no FHIR or HL7 at all.
    if "system" in text:
        yield from _telecom(text)
    if "given" in text or "line" in text:
        yield from _string_lists(text)
    if "identifier" in text:
        yield from _identifiers(text)
    if "PID|" in text or "NK1|" in text or "IN1|" in text:
        yield from _hl7(text)


def _telecom(text: str) -> Iterator[Span]:
    for match in _SYSTEM.finditer(text):
        kind = _TELECOM_KINDS.get(match.group("system"))
        if kind is None:
            continue
        # The object around "system": back to its "{" and on to its "}", within reach.
        start = text.rfind("{", max(0, match.start() - _REACH), match.start())
        end = text.find("}", match.end(), match.end() + _REACH)
        start = match.start() if start == -1 else start
        end = match.end() + _REACH if end == -1 else end
        for value in _VALUE.finditer(text, start, end):
            yield Span(kind, *value.span("v"))


def _string_lists(text: str) -> Iterator[Span]:
    for kind, pattern in _STRING_LISTS:
        for match in pattern.finditer(text):
            offset = match.start("body")
            for item in _STRING.finditer(match.group("body")):
                group = 1 if item.group(1) is not None else 2
                start, end = item.span(group)
                yield Span(kind, offset + start, offset + end)


def _identifiers(text: str) -> Iterator[Span]:
    """Every `value` in a FHIR `identifier` array: MRNs, or SSNs when the system says so."""
    for match in _IDENTIFIER.finditer(text):
        end = _closing_bracket(text, match.end() - 1)
        for item in _entries(text, match.end(), end):
            kind = Kind.SSN if _SSN_SYSTEM.search(text, item[0], item[1]) else Kind.MRN
            for value in _IDENTIFIER_VALUE.finditer(text, item[0], item[1]):
                yield Span(kind, *value.span("v"))


def _closing_bracket(text: str, at: int, limit: int = 20000) -> int:
    """Index just past the `]` that closes the `[` at `at` (strings are not special-cased)."""
    depth = 0
    for index in range(at, min(len(text), at + limit)):
        char = text[index]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
    return min(len(text), at + limit)


def _entries(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The top-level `{...}` objects between `start` and `end`."""
    at = text.find("{", start, end)
    while at != -1:
        close = _closing_bracket(text, at)
        yield at, close
        at = text.find("{", close, end)


def _hl7(text: str) -> Iterator[Span]:
    for match in _HL7_SEGMENT.finditer(text):
        fields = _HL7_FIELDS[match.group("seg")]
        position = match.start()
        for number, value in enumerate(match.group().split("|")):
            kind = fields.get(number)
            if kind is not None and value.strip("^~&\\ "):
                yield Span(kind, position, position + len(value))
            position += len(value) + 1
