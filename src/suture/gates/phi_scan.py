"""HIPAA Safe Harbor identifiers in repository text: the redactor's patterns plus validators.

The redactor (`suture.llm.redact`) errs towards hiding too much, which is right for a prompt and
wrong for a gate that fails builds. Here each value it finds must also pass a check: SSN number
rules, NPI and card Luhn digits, real calendar dates, dialable NANP numbers, identifiers that are
not UUIDs, digests or versions, names that are not type annotations or CI step names. Cards, NPIs
without the redactor's label form, honorific names and table columns (CSV, SQL seeds) are found
here too. Nothing here keeps or logs a value: a `Hit` is a kind and offsets.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from suture.llm.redact.phi import find_phi
from suture.llm.redact.rules import Text
from suture.llm.redact.spans import Kind


class PhiKind(StrEnum):
    """A kind of identifier the gate reports; the rule id is `phi/<value>`."""

    SSN = "ssn"
    CARD = "card"
    NPI = "npi"
    MRN = "mrn"
    ACCOUNT = "account"
    LICENSE = "license"
    DEVICE = "device"
    EMAIL = "email"
    PHONE = "phone"
    FAX = "fax"
    DOB = "dob"
    DATE = "date"
    NAME = "name"
    ADDRESS = "address"
    ZIP = "zip"
    IP = "ip"
    URL = "url"


# URLs are opt-in: a repository is full of links to docs and services, none of them a patient.
DEFAULT_KINDS = frozenset(PhiKind) - {PhiKind.URL}
# When two hits overlap, the kind listed first in PhiKind wins (an SSN inside a URL is an SSN).
_RANK = {kind: rank for rank, kind in enumerate(PhiKind)}

LABELS = {
    PhiKind.SSN: "SSN", PhiKind.CARD: "payment card number", PhiKind.NPI: "NPI",
    PhiKind.MRN: "medical record number", PhiKind.ACCOUNT: "account number",
    PhiKind.LICENSE: "licence number", PhiKind.DEVICE: "device identifier",
    PhiKind.EMAIL: "email address", PhiKind.PHONE: "phone number", PhiKind.FAX: "fax number",
    PhiKind.DOB: "date of birth", PhiKind.DATE: "date tied to a person", PhiKind.NAME: "name",
    PhiKind.ADDRESS: "street address or place", PhiKind.ZIP: "ZIP code",
    PhiKind.IP: "IP address", PhiKind.URL: "URL",
}


@dataclass(frozen=True, slots=True)
class Hit:
    """An identifier at `text[start:end]`; holds no value, so it is safe to log."""

    kind: PhiKind
    start: int
    end: int


# JSON and log lines escape newlines; a label right after `\n` must still count as a label.
# Two characters become two spaces, so offsets into the original text stay valid.
_ESCAPES = re.compile(r"\\[nrt]")


def scan(text: str, kinds: frozenset[PhiKind] = DEFAULT_KINDS, layout: str = "") -> list[Hit]:
    """Validated, non-overlapping identifiers in `text`, sorted by position.

    `layout` adds column-aware hits for tables: "csv", "tsv" or "sql" (INSERT seeds).
    """
    view = _ESCAPES.sub("  ", text) if "\\" in text else text
    hits: list[Hit] = []
    scanned = Text(view)
    for span in find_phi(view, scanned):
        if span.kind is Kind.URL and PhiKind.URL not in kinds:
            continue
        kind = _classify(span.kind, view, span.start, span.end)
        if kind is not None and kind in kinds:
            hits.append(Hit(kind, span.start, span.end))
    hits += _extra(view, scanned)
    if layout in ("csv", "tsv"):
        hits += scan_table(view, "\t" if layout == "tsv" else _delimiter(view))
    elif layout == "sql":
        hits += scan_sql(view)
    resolved = resolve([h for h in hits if h.kind in kinds])
    if PhiKind.NAME in kinds:
        resolved = resolve([*resolved, *_echoes(view, resolved)])
    return resolved


def _delimiter(text: str) -> str:
    head = text[:text.find("\n")] if "\n" in text else text
    return ";" if head.count(";") > head.count(",") else ","


def scan_table(text: str, delimiter: str) -> list[Hit]:
    """Cells of a delimited file (CSV, TSV) whose header names an identifier column."""
    lines = text.splitlines(keepends=True)
    offset = 0
    kinds: list[PhiKind | None] = []
    hits: list[Hit] = []
    for line in lines:
        body = line.rstrip("\r\n")
        if not kinds:
            if body.strip():
                kinds = [column_kind(name) for name in _csv_row(body, delimiter)]
                if not any(kinds):
                    return []
        else:
            hits += _cells(body, offset, _csv_row(body, delimiter), kinds)
        offset += len(line)
    return hits


_INSERT = re.compile(
    r"(?is)\binsert\s+into\s+[\w.\"`\[\]]+\s*\((?P<cols>[^)]{1,2000})\)\s*values\s*"
)
_SQL_VALUE = re.compile(r"'(?P<q>(?:[^'\n]|'')*)'|(?P<b>[^,()'\s][^,()'\n]*?)\s*(?=[,)])")


def scan_sql(text: str) -> list[Hit]:
    """Values of `INSERT INTO t (cols) VALUES (...), (...)` whose column names an identifier."""
    if "insert" not in text.lower():
        return []
    hits: list[Hit] = []
    for match in _INSERT.finditer(text):
        names = [n.strip().strip("\"`[]") for n in match.group("cols").split(",")]
        kinds = [column_kind(n) for n in names]
        if not any(kinds):
            continue
        at = match.end()
        while at < len(text) and text[at] == "(":
            row, at = _sql_row(text, at + 1)
            for kind, (start, end) in zip(kinds, row, strict=False):
                if kind is not None and _valid(kind, text[start:end], text, start, True):
                    hits.append(Hit(kind, start, end))
            while at < len(text) and text[at] in " \t\r\n,":
                at += 1
    return hits


def _sql_row(text: str, at: int) -> tuple[list[tuple[int, int]], int]:
    """Offsets of each value in a `( ... )` tuple starting at `at`, and where the tuple ends."""
    row: list[tuple[int, int]] = []
    while at < len(text):
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if at < len(text) and text[at] == ")":
            return row, at + 1
        value = _SQL_VALUE.match(text, at)
        if value is None:
            return row, len(text)  # not a plain literal (a function call, a subquery)
        group = "q" if value.group("q") is not None else "b"
        row.append(value.span(group))
        at = value.end()
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if at < len(text) and text[at] == ",":
            at += 1
    return row, at


_COLUMNS = [(re.compile(pattern), kind) for pattern, kind in [
    (r"ssn|social_?security(_?(number|no|num))?", PhiKind.SSN),
    (r"npi(_?(number|no|num|id))?", PhiKind.NPI),
    (r"mrn|medical_?record(_?(number|no|num|id))?|patient_?(id|identifier|number|no)"
     r"|chart_?(number|no)", PhiKind.MRN),
    (r"dob|date_?of_?birth|birth_?(date|day)|birthdate|birthday", PhiKind.DOB),
    (r"(admission|admit|discharge|death|deceased|visit|service)_?date"
     r"|date_?of_?(admission|discharge|death|visit|service)", PhiKind.DATE),
    (r"((first|last|given|family|middle|maiden|full|patient)_?name|surname|fname|lname"
     r"|given|family)", PhiKind.NAME),
    (r"fax(_?(number|no))?", PhiKind.FAX),
    (r"(home_?|mobile_?|cell_?|work_?)?(phone|telephone|tel)(_?(number|no))?|mobile|cell",
     PhiKind.PHONE),
    (r"e_?mail(_?address)?", PhiKind.EMAIL),
    (r"(street_?|home_?)?address(_?line)?_?\d?|street|addr_?\d?|city", PhiKind.ADDRESS),
    (r"zip(_?code)?|postal_?code|zipcode", PhiKind.ZIP),
    (r"(client_?)?ip(_?address)?", PhiKind.IP),
    (r"(account|acct)_?(number|no|num)|member_?id|policy_?(number|no)|subscriber_?id",
     PhiKind.ACCOUNT),
    (r"(drivers?_?)?licen[cs]e_?(number|no|num)|drivers?_?licen[cs]e", PhiKind.LICENSE),
]]


def column_kind(header: str) -> PhiKind | None:
    """The identifier kind a column called `header` holds (`Date of Birth` -> dob), if any."""
    name = re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")
    return next((kind for pattern, kind in _COLUMNS if pattern.fullmatch(name)), None)


def _csv_row(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def _cells(line: str, offset: int, row: list[str], kinds: list[PhiKind | None]) -> list[Hit]:
    hits = []
    at = 0
    for kind, cell in zip(kinds, row, strict=False):
        where = line.find(cell, at) if cell else -1
        if where == -1:
            continue  # quoting changed the text (""), so its place is unknown
        at = where + len(cell)
        value = cell.strip()
        start = offset + where + (len(cell) - len(cell.lstrip()))
        if kind is not None and value and _valid(kind, value, line, where, True):
            hits.append(Hit(kind, start, start + len(value)))
    return hits


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- turning the redactor's spans into validated kinds ---------------------------------------

_BEFORE = 48  # how far back on the line a label may sit
_NPI_LABEL = re.compile(r"(?i)npi|us-npi")
_DATE_LABEL = re.compile(
    r"(?i)(?<![^\W\d_])(?:d\.?o\.?b|birth|born|deceased|death|died|dod|admi(?:ssion|tted|t)"
    r"|discharged?|(?:visit|service|encounter|appointment|procedure|surgery)|date)(?![a-z])"
)
_BIRTH = re.compile(r"(?i)d\.?o\.?b|birth|born")
_PHONE_LABEL = re.compile(r"(?i)phone|tel|mobile|cell|pager|fax|contact")
_CLOUD = re.compile(r"(?i)\baws\b|arn:|azure|\bgcp\b|google|\biam\b|service[ _-]?account"
                    r"|storage[ _-]?account|subscription|billing|tenant|lambda|\bs3\b|\bec2\b"
                    r"|bucket|region|\brole\b")
_AUTHORSHIP = re.compile(r"(?i)author|committer|maintainer|contributor|copyright|signed-off-by"
                         r"|co-authored-by|reviewed-by|reported-by|owner|mailmap|__email__"
                         r"|__contact__")


def _before(text: str, start: int, reach: int = _BEFORE) -> str:
    line_start = text.rfind("\n", max(0, start - reach), start) + 1
    return text[max(line_start, start - reach):start]


def _line(text: str, start: int) -> str:
    begin = text.rfind("\n", 0, start) + 1
    end = text.find("\n", start)
    return text[begin:len(text) if end == -1 else end]


def _classify(kind: Kind, text: str, start: int, end: int) -> PhiKind | None:
    """The gate's kind for a redactor span, or None when the value fails its validator."""
    value = text[start:end]
    if kind in (Kind.MRN, Kind.LICENSE) and (
        _NPI_LABEL.search(_before(text, start, 24))
        or (kind is Kind.MRN and "us-npi" in text[max(0, start - 300):start])
    ):
        return PhiKind.NPI if valid_npi(value) else None
    if kind is Kind.DATE:
        if not valid_date(value):
            return None
        before = _before(text, start)
        labels = list(_DATE_LABEL.finditer(before))
        if labels and re.match(r"_(?!(?:date|on|time|dt|day)\b)[A-Za-z]",
                               before[labels[-1].end():], re.IGNORECASE):
            return None  # a label inside an identifier: `test_admit_function until 2026-...`
        birth = _BIRTH.search(before) or _hl7_field(text, start) == ("PID", 7)
        return PhiKind.DOB if birth else PhiKind.DATE
    mapped = _KINDS.get(kind)
    if mapped is None or not _valid(mapped, value, text, start, False):
        return None
    return mapped


_KINDS = {
    Kind.SSN: PhiKind.SSN, Kind.MRN: PhiKind.MRN, Kind.ACCOUNT: PhiKind.ACCOUNT,
    Kind.LICENSE: PhiKind.LICENSE, Kind.DEVICE: PhiKind.DEVICE, Kind.FAX: PhiKind.FAX,
    Kind.PHONE: PhiKind.PHONE, Kind.EMAIL: PhiKind.EMAIL, Kind.NAME: PhiKind.NAME,
    Kind.ADDRESS: PhiKind.ADDRESS, Kind.ZIP: PhiKind.ZIP, Kind.IP: PhiKind.IP,
    Kind.URL: PhiKind.URL,
}


def _valid(kind: PhiKind, value: str, text: str, start: int, labelled: bool) -> bool:
    """Whether `value` (at `start` in `text`) is a real-looking identifier of `kind`."""
    if kind is PhiKind.SSN:
        return valid_ssn(value)
    if kind is PhiKind.NPI:
        return valid_npi(value)
    if kind in (PhiKind.MRN, PhiKind.LICENSE, PhiKind.ACCOUNT, PhiKind.DEVICE) and _mac(value):
        return kind is PhiKind.DEVICE
    if kind in (PhiKind.MRN, PhiKind.LICENSE, PhiKind.ACCOUNT, PhiKind.DEVICE):
        return (plausible_id(value) and (labelled or _id_label_ok(text, start))
                and not (kind is PhiKind.ACCOUNT and _CLOUD.search(
                    text, max(0, start - 200), start + len(value) + 200)))
    if kind in (PhiKind.PHONE, PhiKind.FAX):
        return valid_phone(value, labelled or bool(_PHONE_LABEL.search(_before(text, start))))
    if kind is PhiKind.EMAIL:
        return (valid_email(value) and not _AUTHORSHIP.search(_line(text, start))
                and not re.search(r"://[^\s/@]*$", _before(text, start, 120)))
    if kind in (PhiKind.DOB, PhiKind.DATE):
        return valid_date(value)
    if kind is PhiKind.NAME:
        return valid_name(value, text, start, labelled) and not _AUTHORSHIP.search(
            _before(text, start))
    if kind is PhiKind.ADDRESS:
        return valid_place(value, text, start)
    if kind is PhiKind.ZIP:
        digits = re.sub(r"\D", "", value)
        return len(digits) in (5, 9) and len(set(digits[:5])) > 1
    if kind is PhiKind.IP:
        end = start + len(value)
        return valid_ip(value, _before(text, start, 24), text[end:end + 3])
    return kind is PhiKind.URL


# The last word of a label before an identifier ("Medical Record Number:", "patientId=").
_ID_WORDS = _words("""
mrn medical record number num no nbr id identifier patient chart encounter account acct iban
member subscriber policy insurance plan beneficiary medicare medicaid claim bank licence license
driver drivers dl npi dea certificate vin plate device serial n imei udi implant sn value
""")


def _id_label_ok(text: str, start: int) -> bool:
    """The label before an identifier is a whole word, not the tail of `Kévin` or a slug."""
    if start >= 2 and text[start - 1] in "-_" and text[start - 2].isalpha():
        return False  # to-list-capacity-for-an-account-1481923656130
    if _hl7_field(text, start)[0] in ("PID", "NK1", "IN1"):
        return True
    words = re.findall(r"[^\W\d_]+", _before(text, start, 40))
    if not words:
        return True
    parts = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[^\W\d_]+", words[-1])
    return not parts or parts[-1].lower() in _ID_WORDS


def _hl7_field(text: str, start: int) -> tuple[str, int]:
    """(segment, field number) of an HL7 v2 field starting at `start`, or ("", 0)."""
    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    head = text[line_start:start]
    return head[:3], head.count("|")


# --- validators ---------------------------------------------------------------------------

# Published as examples or on sample cards and voided by the SSA, so they belong to no one.
_VOID_SSNS = frozenset({"078051120", "219099999"})


def valid_ssn(value: str) -> bool:
    """Nine digits the SSA could issue: area not 000/666/9xx, group not 00, serial not 0000."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{9}", digits) or digits in _VOID_SSNS:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check used by card numbers and NPIs."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def valid_npi(value: str) -> bool:
    """Ten digits starting 1 or 2 whose Luhn check, with the card prefix 80840, holds."""
    digits = value.strip()
    return bool(re.fullmatch(r"[12]\d{9}", digits)) and luhn("80840" + digits)


# Test numbers from the card networks' and payment providers' docs: in code, never a customer's.
_TEST_CARDS = frozenset({
    "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556",
    "4000000000000002", "4000000000000077", "4000000000000093", "4000000000009995",
    "4222222222222", "5555555555554444", "5105105105105100", "5200828282828210",
    "2223003122003222", "378282246310005", "371449635398431", "378734493671000",
    "6011111111111117", "6011000990139424", "3056930009020004", "36227206271667",
    "3566002020360505", "6200000000000005", "30569309025904", "38520000023237",
})


def valid_card(digits: str) -> bool:
    """A payment card number: an issuer's prefix and length, Luhn-valid, not a test number."""
    n = len(digits)
    if not 13 <= n <= 19 or digits in _TEST_CARDS or len(set(digits)) < 3:
        return False
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    issuer = (
        (digits[0] == "4" and n in (13, 16, 19))
        or (p2 in (34, 37) and n == 15)
        or ((51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16)
        or ((p4 == 6011 or p2 == 65 or 644 <= p3 <= 649 or p2 == 62) and n >= 16)
        or (3528 <= p4 <= 3589 and n >= 16)
        or ((p2 in (36, 38, 39) or 300 <= p3 <= 305) and n >= 14)
    )
    return issuer and luhn(digits)


def valid_phone(value: str, labelled: bool) -> bool:
    """A dialable number: NANP rules for 10 digits, 8-15 with `+`, 7-15 next to a label."""
    digits = re.sub(r"\D", "", value)
    if len(set(digits)) < 3:
        return False  # 000-000-0000, 555-555-5555
    if value.lstrip().startswith("+"):
        if digits.startswith("1") and len(digits) == 11:
            return valid_phone(digits[1:], labelled)
        return 8 <= len(digits) <= 15
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) == 10:
        # 555-0100 to 555-0199 are reserved for fiction: synthetic by construction.
        return _nanp(digits) and not (digits[3:6] == "555" and digits[6:8] == "01")
    return labelled and 7 <= len(digits) <= 15


def _nanp(d: str) -> bool:
    """Area code and exchange start 2-9 and are not N11 service codes (911, 411)."""
    return d[0] in "23456789" and d[1:3] != "11" and d[3] in "23456789" and d[4:6] != "11"


# RFC 2606 / 6761 names that can never hold a mailbox: synthetic by construction.
_RESERVED_DOMAIN = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost)$")
_MACHINE_LOCALS = frozenset({"git", "noreply", "no-reply", "donotreply", "do-not-reply",
                             "mailer-daemon", "postmaster"})


def valid_email(value: str) -> bool:
    """An address a person might read: not a bot, a git remote or a template placeholder."""
    local, _, domain = value.strip().rpartition("@")
    domain = domain.lower()
    return (bool(local) and local.lower() not in _MACHINE_LOCALS and "{" not in local
            and not domain.endswith("noreply.github.com") and not _RESERVED_DOMAIN.search(domain))


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def valid_date(value: str) -> bool:
    """A calendar date more precise than a year (a year alone is allowed by Safe Harbor)."""
    v = value.strip()
    if m := re.match(r"(\d{4})[-/,]\s*(\d{1,2})(?:[-/,]\s*(\d{1,2}))?(?!\d)", v):
        return _ymd(int(m[1]), int(m[2]), int(m[3]) if m[3] else 1)
    if m := re.match(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?!\d)", v):
        year = int(m[3]) if len(m[3]) == 4 else 2000
        a, b = int(m[1]), int(m[2])
        return _ymd(year, a, b) or _ymd(year, b, a)
    if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})\d*", v):
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    if m := re.search(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})\D+(\d{4})", v):
        return _ymd(int(m[3]), _MONTHS.get(m[1].lower(), 0), int(m[2]))
    if m := re.search(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4})", v):
        return _ymd(int(m[3]), _MONTHS.get(m[2].lower(), 0), int(m[1]))
    return False


def _ymd(year: int, month: int, day: int) -> bool:
    return 1850 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= _DAYS[month - 1]


_UUID = re.compile(r"(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
_DIGEST = re.compile(r"(?=[0-9a-f]*[a-f])[0-9a-f]{7,128}")
_VERSION = re.compile(r"v?\d+(?:\.\d+){1,3}(?:[-.+]?[A-Za-z]+\d*)?")
_PLACEHOLDER = re.compile(r"(?i)(?:test|example|sample|dummy|fake|mock|demo|foo|bar|xxx|todo"
                          r"|tbd|changeme|placeholder|none|null)|.*(?:example|sample|dummy"
                          r"|placeholder)")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")


def plausible_id(value: str) -> bool:
    """An identifier worth reporting: 4+ digits, not a UUID, digest, version, date or dummy."""
    v = value.strip()
    plain = re.sub(r"\W", "", v)
    digits = re.sub(r"\D", "", v)
    return not (
        len(digits) < 4 or len(set(plain)) < 2 or _UUID.fullmatch(v) or _DIGEST.fullmatch(v)
        or _VERSION.fullmatch(v) or _PLACEHOLDER.match(v) or _DATE_LIKE.match(v)
        or "01234567890123456789".startswith(digits) or "12345678901234567890".startswith(digits)
    )


def _mac(value: str) -> bool:
    octets = re.split(r"[:-]", value.lower())
    return len(octets) == 6 and len(set(octets)) > 2


# Words that start CI step names, test names, types and UI labels (`name: Set Up Python`,
# `first_name: Optional[str]`) and never a person; a labelled "name" holding one is not PHI.
_NOT_NAME = _words("""
none null true false unknown anonymous redacted test tests testing example sample demo dummy
fake mock user users admin root string str int name names value default todo optional any union
list dict self mapped column field annotated literal sequence mapping iterable tuple set type
run set up install build check checkout setup deploy cache upload download python node lint
format release publish create update delete get add remove unit integration docker image push
pull tag version bump job step service server client api app application main dev prod staging
production config settings data database migration migrations report coverage security scan
audit dependency dependencies package packages requirements tool tools generate docs pages site
web file files code source target output input error warning info debug log logs health status
monitor metrics alert notify notification email slack github gitlab actions workflow pipeline
stage environment variables secrets token login logout auth account patient patients record
records observation encounter bundle resource practitioner organization hospital clinic medical
care new old first last next primary secondary custom basic simple full display title
description label kind class function method module object model schema table index the and of
for with to in on at by from is are not no yes all each only my our your this that
mr mrs ms dr doctor nurse family given prefix suffix use official usual text human human_name
arial helvetica verdana georgia times courier roboto inter sans serif mono monospace system
emergency contact guardian mother father spouse responsible party insured subscriber
license licence software public approved foundation project team group inc llc ltd corp company
university institute club society association language library framework program system network
services some street address city state zip country when then but given
""")


_CAMEL = re.compile(r"[A-Za-z][a-z]+[A-Z]\w*")
_PERSON_LABEL = re.compile(
    r"(?i)(?<![^\W\d_])(?:patient(?:[ _-]?(?:full[ _-]?)?name)?|(?:first|last|middle|maiden|full"
    r"|given|family)[ _-]?name|given|family|surname|fname|lname|guardian(?:[ _-]?name)?"
    r"|next[ _-]?of[ _-]?kin|emergency[ _-]?contact(?:[ _-]?name)?|responsible[ _-]?party"
    r"|(?:mother|father|spouse|subscriber|insured)(?:'s)?(?:[ _-]?name)?)"
)
_BARE_NAME = re.compile(r"(?i)(?<![^\W\d_])(?:display[ _-]?)?name[\"']?\s*[:=]\s*[\"']?$")
# Words near a bare `name:` that say the record is about a person, not a product or a check.
_PERSON_CONTEXT = re.compile(r"(?i)patient|person|member|subscriber|guardian|gender|birth|\bdob"
                             r"|\bssn\b|\bmrn\b|phone|e-?mail|address|contact|\bsex\b|\bage\b"
                             r"|medical record|admission|discharge")
_FHIR_GIVEN = re.compile(r"[\"']given[\"']\s*:\s*\[[^\]]*$")


def valid_name(value: str, text: str, start: int, labelled: bool) -> bool:
    """A person's name, not a type (`Optional[str]`), a font, a CI step or a sentence."""
    end = start + len(value)
    words = [w.lower() for w in re.split(r"[\s,^~&]+", value) if w]
    if (text[end:end + 1] in ("[", "(", ".") or text[end:end + 1].isalnum() or not words
            or all(w in _NOT_NAME for w in words)
            or any(_CAMEL.fullmatch(w) for w in value.split())):
        return False  # a call, an attribute, a generic, a placeholder or a CamelCase class
    if labelled or _hl7_field(text, start)[0] in ("PID", "NK1", "IN1"):
        return True
    before = _before(text, start, 40)
    if re.search(r"(?i)font[ _-]?family\W*$", before):
        return False
    if _FHIR_GIVEN.search(text, max(0, start - 300), start):
        return True
    labels = list(_PERSON_LABEL.finditer(before))
    if labels:
        label = labels[-1]
        gap = before[label.end():]
        if re.search(r"[:=]", gap):
            return True
        # Prose: "Patient <First> <Last> was seen" names someone; "given Decimal" does not.
        return not gap.strip() and label.group().lower() == "patient" and len(words) >= 2
    if _BARE_NAME.search(before):
        # The bare label `name` names checks, countries and products; only accept a first
        # and last name with no common word, ending its value, in a record about a person.
        return (
            2 <= len(words) <= 4 and not any(w in _NOT_NAME for w in words)
            and not re.match(r"[ ][a-z]", text[end:end + 2])
            and bool(_PERSON_CONTEXT.search(text, max(0, start - 300), end + 300))
        )
    return False


_NOT_PLACE = re.compile(r"[:/@{}$<>=\\|#]|localhost|^[\w-]+(?:\.[\w-]+)+$")
_PLACE_LABEL = re.compile(
    r"(?i)(?P<pre>[^\W_]*[_ -]?)(?:city|town|county|district|street|street_?address"
    r"|address(?:_?line\d?)?)[\"']?[ ]*[:=][ ]*[\"']?$"
)
_PLACE_PREFIXES = frozenset({"", "street_", "street ", "home_", "home ", "mailing_", "mailing ",
                             "postal_", "patient_", "residential_", "residence_", "birth_"})


def valid_place(value: str, text: str, start: int) -> bool:
    """A street or town, not a host, a template, a type or an `ip_address:`."""
    v = value.strip()
    after = text[start + len(value):start + len(value) + 1]
    if (after in ("[", "(", ".") or after.isalnum() or _NOT_PLACE.search(v)
            or not any(c.isalpha() for c in v)
            or _CAMEL.fullmatch(v) or not any(c.isupper() or c.isdigit() for c in v)):
        return False
    label = _PLACE_LABEL.search(_before(text, start, 60))
    if label is not None and label.group("pre").lower() not in _PLACE_PREFIXES:
        return False  # email_address, ip_address, MacAddress, server address
    return not all(w in _NOT_NAME for w in v.lower().split())


def valid_ip(value: str, before: str, after: str = "") -> bool:
    """A public address, not a private or documentation range, version, OID or CIDR block."""
    if re.search(r"(?i)(?:(?<![a-z])(?:version|ver|release|v|section|sections|rfc|oid)"
                 r"|==|>=|<=|~=|@|§|identifier\(\W?)\s*:?\s*$", before):
        return False
    if re.match(r"/\d|[-+][0-9a-z]", after):
        return False  # a CIDR block in network configuration, or a version's suffix
    groups = value.split(":")
    if ":" in value and (value.lower().startswith("::ffff") or len([g for g in groups if g]) < 4
                         or sum(len(g) >= 3 for g in groups) < 2):
        return False  # `::ffff:192` (half a mapped IPv4), `38:2::255:0:0`, `1000::`
    if "." in value and all(int(o) <= 20 for o in value.split(".") if o.isdigit()):
        return False  # 2.5.4.6, 13.2.3.1: OIDs and section numbers, not hosts
    try:
        return ipaddress.ip_address(value).is_global
    except ValueError:
        return False


# --- identifiers the redactor has no rule for --------------------------------------------

_CARD = re.compile(
    r"\d(?<![\w.,-]\d)(?:\d{3}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{3}([ -])\d{6}\2\d{4,5}"
    r"|\d{12,18})(?![\w-]|[.,]\d)"
)
_CARD_WORDS = re.compile(r"(?i)card|visa|master|amex|american express|discover|credit|debit"
                         r"|\bpan\b|\bcc|payment")
_NPI = re.compile(r"(?i)(?<![a-z])npi(?:[ _-]?(?:number|num|no|id))?[\"']?\s*[:=#]?\s*[\"']?"
                  r"(?P<v>\d{10})(?!\d)")
# Patients are Mr/Mrs/Ms; "Dr." names a clinician, whose name is not the patient's PHI.
_HONORIFIC = re.compile(r"(?<![\w.])(?:Mr|Mrs|Ms|Miss|Mx)\.?[ ]+(?P<v>[A-Z][a-z]+(?:['-][A-Z]?"
                        r"[a-z]+)?(?:[ ][A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?)?)(?![\w])")


# USPS street suffixes (Publication 28, C1), which the redactor's short list does not cover.
_STREET_WORDS = _words("""
alley annex arcade avenue ave bayou beach bend bluff bluffs bottom boulevard blvd branch bridge
brook brooks burg burgs bypass camp canyon cape causeway center centers circle circles cir cliff
cliffs club common commons corner corners course court courts ct cove coves creek crescent crest
crossing crossroad curve dale dam divide drive drives dr estate estates expressway extension
extensions falls ferry field fields flat flats ford fords forest forge forges fork forks fort
freeway garden gardens gateway glen glens green greens grove groves harbor harbors haven heights
highway hwy hill hills hollow inlet island islands isle junction junctions key keys knoll knolls
lake lakes landing lane ln light lights loaf lock locks lodge loop mall manor manors meadow
meadows mews mill mills mission motorway mount mountain mountains neck orchard oval overpass park
parks parkway parkways pass passage path pike pine pines place pl plain plains plaza point points
port ports prairie radial ramp ranch rapid rapids rest ridge ridges river road rd roads route row
rue run shoal shoals shore shores skyway spring springs spur spurs square squares st station
stravenue stream street streets summit terrace throughway trace track trafficway trail trailer
tunnel turnpike underpass union unions valley valleys via viaduct view views village villages
ville vista walk walks wall way ways well wells
""")
_STREET = re.compile(
    r"\d(?<![\w.,:/-]\d)\d{0,5}[A-Za-z]?(?:[ ]+[NSEW]\.?)?(?P<words>(?:[ ]+[A-Z][a-z'.-]*){1,3})"
    r"[ ]+(?P<suffix>[A-Z][a-z]+)\.?(?![\w])(?:,?[ ]+(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm"
    r"|Room|\#)\.?[ ]*[\w-]+)?"
)
_LABELLED_STREET = re.compile(
    r"(?im)(?<![^\W\d_])(?:(?:home|street|mailing|postal|patient|residential)[ _-]?)?address"
    r"(?:[ _-]?line[ _-]?1?)?[\"']?[ ]*[:=][ ]*[\"']?(?P<v>\d{1,6}[A-Za-z]?(?:[ ]+[\w.'#-]+){1,7}?)"
    r"(?=[ ]*(?:[\"',;|]|$))"
)
_DATE_TEXT = (r"(?P<v>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul"
              r"|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?[ ]\d{1,2},?[ ]\d{4}|\d{1,2}[ ](?:Jan|Feb|Mar|Apr"
              r"|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?[ ]\d{4})(?![\d/-])")
# Dates of care written as prose ("seen on <date>"); timestamps on log lines have no such verb.
_CARE_DATE = re.compile(
    r"(?i)(?<![^\W\d_])(?:appointment|follow[- ]?up|seen|visited|scheduled|surgery|procedure"
    r"|operated|vaccinated|injured|delivered|admitted|discharged|expired|died)(?:[ ]+(?:on|for"
    r"|at|of))?[ :]+(?-i:" + _DATE_TEXT + ")"
)
_NAME_COMMA = re.compile(
    r"(?<![^\W\d_])(?i:(?:patient[ _-]?|full[ _-]?)?name)[\"']?[ ]*[:=][ ]*[\"']?"
    r"(?P<v>[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?,[ ]?[A-Z][a-z]+(?:[ ]+[A-Z]\.?)?)(?![\w])"
)
# US territories and military post codes, missing from the redactor's list of states.
_TERRITORY_ZIP = re.compile(r"(?<=, )(?:AS|FM|MH|MP|PW|AA|AE|AP)[ ]+(?P<v>\d{5}(?:-\d{4})?)"
                            r"(?![\d-])")


def _anchors(words: str) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, words.split("|"))))


_ANCHOR_NPI = _anchors("npi")
_ANCHOR_NAME = _anchors("name")
_ANCHOR_ADDRESS = _anchors("address")
_ANCHOR_CARE = _anchors("appointment|follow|seen|visited|scheduled|surgery|procedure|operated"
                        "|vaccinated|injured|delivered|admitted|discharged|expired|died")


def _within(pattern: re.Pattern[str], scanned: Text,
            anchors: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Matches of `pattern` on the lines holding an anchor word (all lines if unsure)."""
    windows = scanned.windows(anchors)
    for start, end in [(0, len(scanned.text))] if windows is None else windows:
        yield from pattern.finditer(scanned.text, start, end)


def _extra(text: str, scanned: Text) -> Iterator[Hit]:
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        grouped = len(digits) != len(match.group())
        if valid_card(digits) and (grouped or _CARD_WORDS.search(_line(text, match.start()))):
            yield Hit(PhiKind.CARD, *match.span())
    for match in _within(_NPI, scanned, _ANCHOR_NPI):
        if valid_npi(match.group("v")):
            yield Hit(PhiKind.NPI, *match.span("v"))
    for match in _HONORIFIC.finditer(text):
        if valid_name(match.group("v"), text, match.start("v"), True):
            yield Hit(PhiKind.NAME, *match.span("v"))
    for match in _within(_NAME_COMMA, scanned, _ANCHOR_NAME):
        if valid_name(match.group("v"), text, match.start("v"), False):
            yield Hit(PhiKind.NAME, *match.span("v"))
    for match in _STREET.finditer(text):
        if match.group("suffix").lower() in _STREET_WORDS and not all(
                w.lower() in _NOT_NAME for w in match.group("words").split()):
            yield Hit(PhiKind.ADDRESS, *match.span())
    for match in _within(_LABELLED_STREET, scanned, _ANCHOR_ADDRESS):
        if valid_place(match.group("v"), text, match.start("v")):
            yield Hit(PhiKind.ADDRESS, *match.span("v"))
    for match in _within(_CARE_DATE, scanned, _ANCHOR_CARE):
        if valid_date(match.group("v")):
            yield Hit(PhiKind.DATE, *match.span("v"))
    for match in _TERRITORY_ZIP.finditer(text):
        yield Hit(PhiKind.ZIP, *match.span("v"))


_MIN_ECHO = 4
_CAPITALISED = re.compile(r"(?<![\w'-])[A-Z][\w'-]*")


def _echoes(text: str, hits: list[Hit]) -> Iterator[Hit]:
    """Later unlabelled mentions of a full name already found with a label."""
    by_first: dict[str, set[str]] = {}
    for hit in hits:
        if hit.kind is PhiKind.NAME:
            value = text[hit.start:hit.end]
            if "\n" in value or "^" in value or " " not in value or len(value) < _MIN_ECHO:
                continue
            by_first.setdefault(value.split(" ", 1)[0], set()).add(value)
    if not by_first:
        return
    # One pass over capitalised words, not one search per name: a log can hold thousands.
    for word in _CAPITALISED.finditer(text):
        for value in by_first.get(word.group(), ()):
            at, end = word.start(), word.start() + len(value)
            if (text.startswith(value, at) and not _word(text, end)
                    and not _AUTHORSHIP.search(_line(text, at))):
                yield Hit(PhiKind.NAME, at, end)


def _word(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def resolve(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping hits sorted by position; of overlapping ones the higher-ranked kind wins."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, _RANK[h.kind], -h.end)):
        if hit.end <= hit.start:
            continue
        if kept and kept[-1].end > hit.start:
            if _RANK[hit.kind] < _RANK[kept[-1].kind]:
                kept[-1] = hit
            continue
        kept.append(hit)
    return kept


# --- showing a value without revealing it ----------------------------------------------------

def mask(kind: PhiKind, value: str) -> str:
    """A form of `value` safe to print: `***-**-6789`, `j***@example.org`, `J*** S***`."""
    v = " ".join(value.split())
    digits = re.sub(r"\D", "", v)
    if kind is PhiKind.SSN:
        return f"***-**-{digits[-4:]}"
    if kind is PhiKind.CARD:
        return f"****-{digits[-4:]}"
    if kind is PhiKind.EMAIL:
        local, _, domain = v.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if kind in (PhiKind.NAME, PhiKind.ADDRESS):
        words = re.split(r"([\s,^~&]+)", v)
        return "".join(w if not w or not w[0].isalnum() else
                       ("*" * len(w) if w[0].isdigit() else w[0] + "***") for w in words)
    if kind in (PhiKind.DOB, PhiKind.DATE):
        return re.sub(r"[A-Za-z0-9]", "*", v)
    if kind is PhiKind.ZIP:
        return digits[:3] + "**"
    if kind is PhiKind.IP:
        sep = "." if "." in v and ":" not in v else ":"
        return v.split(sep, 1)[0] + sep + "***"
    if kind is PhiKind.URL:
        head, sep, _ = v.partition("://")
        host = v.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{head}{sep}{host}/***" if sep else "***"
    keep = 2 if sum(c.isalnum() for c in v) >= 6 else 0
    return _mask_but_last(v, keep)


def _mask_but_last(value: str, keep: int) -> str:
    """Every letter and digit as `*` except the last `keep`."""
    out = []
    left = keep
    for char in reversed(value):
        if char.isalnum():
            out.append(char if left > 0 else "*")
            left -= 1
        else:
            out.append(char)
    return "".join(reversed(out))


def normal(kind: PhiKind, value: str) -> str:
    """The form under which two spellings of one value are the same value."""
    if kind in (PhiKind.SSN, PhiKind.CARD, PhiKind.NPI, PhiKind.PHONE, PhiKind.FAX):
        return re.sub(r"\D", "", value)
    return " ".join(value.casefold().split())
