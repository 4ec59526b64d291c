"""PHI that patterns can find (HIPAA Safe Harbor identifiers) in free text and logs.

Dates: only dates tied to a person are redacted, i.e. dates after a label such as DOB, birth
date, admission, discharge or death (which covers FHIR `birthDate` / `deceasedDateTime` and
`date(1961, 3, 4)` in assertion output). Timestamps on ordinary log lines are left alone: they
are not about a patient, and a diagnosis needs them to order events.
Names: only labelled names (`patient: John Smith`, `"name": "John Smith"`, FHIR `family` /
`given`); there is no model-based name recogniser.
URLs: every URL with a host, except `file://` paths, a bare loopback one
(`http://localhost:8000/`), and public references (hl7.org, loinc.org, pypi.org, ...).
IPs: loopback and unspecified addresses (127.0.0.1, ::1, 0.0.0.0) are kept; they identify no
one and "connection refused on 127.0.0.1:5432" is evidence.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator

from .rules import Text, rule
from .spans import Kind, Span
from .structured import find_structured

_GAP = r"[^\w\n]{1,6}"  # between a label and its value: ": ", "=", "': '", " #", "\": \""
_ID = r"(?P<v>(?=[\w.-]*\d)[A-Za-z0-9](?:[\w.-]{0,40}[A-Za-z0-9])?)(?![\w-])"
_NO = r"(?:number|num|no\.?|nbr|\#|id)"
_S = r"[ _-]?"  # separator inside a multi-word label


def _label(words: str) -> str:
    """A case-insensitive label that is not the tail or head of a longer word."""
    return rf"(?<![A-Za-z])(?i:{words})(?![A-Za-z])"


def _digits(low: int, high: int = 15) -> Callable[[str], bool]:
    return lambda value: low <= sum(c.isdigit() for c in value) <= high


def _valid_ssn(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


_TYPE_NAMES = re.compile(r"(?:Any|None|True|False|Optional|Union|Self|Path|IPv[46]Address)\b")


def _place(value: str) -> bool:
    """A place, not a type annotation such as `client_address: Any`."""
    return any(c.isalpha() for c in value) and not _TYPE_NAMES.match(value)


def _public_ipv6(value: str) -> bool:
    # `a::b` is a C++ or Rust path and `[0::2]` a slice; real addresses have a longer group.
    groups = re.split(r"[:.]", value)
    return any(len(g) >= 3 for g in groups) and any(c.isdigit() for c in value) \
        and _public_ip(value)


def _public_ip(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE_VALUE = (
    r"(?P<v>\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}/\d{1,2}/\d{1,2}|\d{4},[ ]*\d{1,2},[ ]*\d{1,2}"
    rf"|{_MONTH}\.?[ ]+\d{{1,2}}(?:st|nd|rd|th)?,?[ ]+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ ]+{_MONTH}\.?,?[ ]+\d{{4}}"
    r"|\d{8}|\d{4}(?:-\d{2})?)(?![\d])"
)
_DATE_LABELS = (
    rf"d\.?o\.?b|date{_S}of{_S}(?:birth|death|admission|discharge|service|visit)"
    rf"|birth{_S}(?:date|day)|birthday|born(?:{_S}on)?|deceased(?:{_S}date(?:{_S}time)?)?"
    rf"|death{_S}date|died{_S}on|dod|admi(?:ssion|tted|t)(?:{_S}(?:date|on))?"
    rf"|discharged?(?:{_S}(?:date|on))?"
    rf"|(?:visit|service|encounter|appointment|procedure|surgery){_S}date"
)
_NAME_WORD = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)*"
_INITIAL = r"(?:[ ]+[A-Z]\.?)?"  # a middle initial: "Jane Q. Public"
_NAME_CAPS = r"[A-Z]{2,}(?:['’-][A-Z]+)*"
_NAME_LABELS = (
    rf"patient(?:{_S}(?:full{_S})?name)?|full{_S}name|first{_S}name|last{_S}name"
    rf"|given(?:{_S}name)?|family(?:{_S}name)?|middle{_S}name|maiden{_S}name|surname|fname|lname"
    rf"|guardian(?:{_S}name)?|next{_S}of{_S}kin|emergency{_S}contact(?:{_S}name)?"
    rf"|(?:mother|father|spouse|subscriber|insured)(?:'s)?(?:{_S}name)?|responsible{_S}party"
)
_STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE"
    r"|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI)"
)
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Plaza|Plz"
    r"|STREET|ST|AVENUE|AVE|ROAD|RD|BLVD|LANE|LN|DRIVE|DR|COURT|CT)"
)
_STREET_ANCHORS = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
    "|terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|plaza|plz"
)
_PHONE_VALUE = r"(?P<v>\+?\(?\d[\d ().-]{5,22}\d)(?![\w-])"

_RULES = [
    rule(Kind.SSN, r"(?P<v>\d(?<![\w-]\d)\d{2}-\d{2}-\d{4})(?![\w-])", accept=_valid_ssn),
    rule(Kind.SSN, _label(rf"ssn|social{_S}security(?:{_S}{_NO})?") + _GAP
         + r"(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?!\d)", "ssn|social"),
    rule(Kind.MRN, _label(
        rf"mrn|medical{_S}record(?:{_S}{_NO})?|patient{_S}(?:id|identifier|number|no\.?|\#)"
        rf"|chart{_S}(?:number|no\.?|\#)|encounter{_S}(?:id|number)") + _GAP + _ID,
        "mrn|medical|patient|chart|encounter"),
    rule(Kind.ACCOUNT, _label(
        rf"(?:bank{_S})?account(?:{_S}{_NO})?|acct(?:{_S}{_NO})?|iban|member{_S}id"
        rf"|subscriber{_S}id|policy{_S}{_NO}|insurance{_S}{_NO}|health{_S}plan{_S}{_NO}"
        rf"|beneficiary{_S}{_NO}|medicare(?:{_S}{_NO})?|medicaid(?:{_S}{_NO})?|claim{_S}{_NO}")
        + _GAP + _ID,
        "account|acct|iban|member|subscriber|policy|insurance|plan|beneficiary|medicare"
        "|medicaid|claim"),
    rule(Kind.LICENSE, _label(
        rf"(?:drivers?'?s?{_S})?licen[cs]e{_S}{_NO}|drivers?'?s?{_S}licen[cs]e|dl{_S}{_NO}"
        rf"|npi|dea{_S}{_NO}|certificate{_S}{_NO}|vin|licen[cs]e{_S}plate|plate{_S}{_NO}")
        + _GAP + _ID, "licen|dl|npi|dea|certificate|vin|plate"),
    rule(Kind.DEVICE, _label(
        rf"device{_S}(?:id|serial|identifier|number|no\.?|\#)|serial(?:{_S}{_NO})?|s/n|imei"
        rf"|udi|implant{_S}(?:id|serial)") + _GAP + _ID, "device|serial|s/n|imei|udi|implant"),
    rule(Kind.DEVICE,
         r"(?<![\w:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])"),
    rule(Kind.FAX, _label(rf"fax(?:{_S}{_NO})?") + _GAP + _PHONE_VALUE, "fax", _digits(7)),
    rule(Kind.PHONE, _label(
        rf"phone(?:{_S}{_NO})?|tel|telephone|mobile|cell(?:{_S}phone)?|pager|contact{_S}number")
        + _GAP + _PHONE_VALUE, "phone|tel|mobile|cell|pager|contact", _digits(7)),
    rule(Kind.PHONE,
         r"(?<![\w./+-])(?P<v>(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4})"
         r"(?![\w-]|\.\d)"),
    rule(Kind.PHONE, r"(?<![\w./+-])(?P<v>\+\d{1,3}(?:[ .-]\(?\d{1,4}\)?){2,5})(?![\w-]|\.\d)",
         "+", _digits(8)),
    rule(Kind.EMAIL,
         r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
         r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
         r"(?![\w-])", "@"),
    rule(Kind.DATE, _label(_DATE_LABELS) + r"[^\d\n]{1,24}?" + _DATE_VALUE,
         "d.o|do.b|dob|date|birth|born|deceased|death|died|dod|admi|discharge"),
    rule(Kind.NAME, _label(_NAME_LABELS) + _GAP
         + rf"(?P<v>{_NAME_WORD}(?:{_INITIAL},?[ ]+{_NAME_WORD}){{0,3}}"
         + rf"|{_NAME_CAPS}(?:,?[ ]+{_NAME_CAPS}){{1,3}})(?![\w])",
         "patient|name|given|family|surname|guardian|kin|contact|mother|father|spouse"
         "|subscriber|insured|responsible"),
    # "name" alone labels too much (test names, workflow names): demand a first and last name.
    rule(Kind.NAME, _label(rf"name|display{_S}name") + _GAP
         + rf"(?P<v>{_NAME_WORD}(?:{_INITIAL}[ ]+{_NAME_WORD}){{1,3}})(?![\w])", "name"),
    rule(Kind.ADDRESS,
         r"(?<![\w.])\d{1,6}[A-Za-z]?(?:[ ]+(?:[NSEW]\.?|North|South|East|West))?"
         r"(?:[ ]+(?:[A-Z][A-Za-z'.-]*|\d+(?:st|nd|rd|th))){1,4}[ ]+" + _STREET_SUFFIX
         + r"\.?(?![\w])(?:,?[ ]+(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm|Room|\#)\.?[ ]*"
         r"[\w-]+)?", _STREET_ANCHORS),
    rule(Kind.ADDRESS, r"(?<![\w.])(?i:p\.?[ ]?o\.?[ ]+box)[ ]+\d+", "box"),
    rule(Kind.ADDRESS,
         r"(?P<v>[A-Z][a-zA-Z]+(?:[ ][A-Z][a-zA-Z]+){0,2})(?=,[ ]?" + _STATES + r"[ ]+\d{5})",
         ","),
    rule(Kind.ADDRESS,
         _label(r"city|town|county|district|street|street_?address|address(?:_?line\d?)?")
         + r"[\"']?[ ]*[:=][ ]*(?:\"(?P<v>[^\"\n]{2,120})\"|'(?P<v2>[^'\n]{2,120})'"
         + rf"|(?P<v3>{_NAME_WORD}(?:[ ]+[A-Za-z0-9][\w.'-]*){{0,6}}))",
         "city|town|county|district|street|address", _place),
    rule(Kind.ZIP, _label(rf"zip(?:{_S}code)?|zipcode|postal{_S}code|post{_S}code") + _GAP
         + r"(?P<v>\d{5}(?:-\d{4})?)(?![\d-])", "zip|post"),
    rule(Kind.ZIP, r"(?<=,)[ ]?" + _STATES + r"[ ]+(?P<v>\d{5}(?:-\d{4})?)(?![\d-])", ","),
    # Lookbehinds sit after the first digit so the scan can skip ahead to digits.
    rule(Kind.IP, r"(?P<v>\d(?<![\w.]\d)(?<!==\d)\d{0,2}(?:\.\d{1,3}){3})(?!\w|\.\d)",
         accept=_public_ip),
    rule(Kind.IP,
         r"(?<![\w:.])(?P<v>(?=[0-9A-Fa-f:]*::?[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}"
         r"(?:\d{1,3}(?:\.\d{1,3}){3})?)(?![\w:])", ":", _public_ipv6),
]

_URL = re.compile(
    r"(?<![\w.+-])(?:[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s/\"'<>\\`|]+[^\s\"'<>\\`|]*"
    r"|www\.[A-Za-z0-9-]+\.[^\s\"'<>\\`|]+)"
)
_URL_TAIL = ".,;:!?)]}'*"
# Public references that name a standard or a package, never a person: FHIR code systems,
# specifications, package indexes and the docs that error messages point to.
_STANDARDS_HOST = re.compile(
    r"(?:^|\.)(?:hl7\.org|fhir\.org|loinc\.org|snomed\.info|unitsofmeasure\.org|nlm\.nih\.gov"
    r"|ietf\.org|w3\.org|json-schema\.org|schemastore\.org|python\.org|pypi\.org"
    r"|pythonhosted\.org|readthedocs\.io|pydantic\.dev|osv\.dev)$"
)
_LOOPBACK_HOSTS = {"localhost", "0.0.0.0", "[::1]", "::1"}  # noqa: S104  # nosec B104 - names, not a bind


def _find_urls(text: str) -> Iterator[Span]:
    """URLs with a host; a bare loopback address (`http://localhost:8000/`) is kept."""
    if "://" not in text and "www." not in text:
        return
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _URL_TAIL:
            end -= 1
        url = text[start:end]
        if url[:7].lower() == "file://":
            continue  # a local path, which is evidence
        rest = url.split("://", 1)[1] if "://" in url else url
        authority, _, path = rest.partition("/")
        host = authority.rsplit("@", 1)[-1]
        host = host if host.startswith("[") else host.split(":", 1)[0]
        if (host in _LOOPBACK_HOSTS or host.startswith("127.")) and path in ("", "/"):
            continue
        if _STANDARDS_HOST.search(host.lower()):
            continue
        yield Span(Kind.URL, start, end)


_FAX_NEARBY = re.compile(r"(?i)fax")


def find_phi(text: str, scanned: Text | None = None) -> Iterator[Span]:
    """Spans of PHI in `text`, possibly overlapping; `spans.merge` resolves overlaps."""
    scanned = scanned or Text(text)
    yield from _find_urls(text)
    for each in _RULES:
        for span in each.find(scanned):
            # An unlabelled phone number right after the word "fax" is a fax number.
            if span.kind is Kind.PHONE and _FAX_NEARBY.search(text, max(0, span.start - 16),
                                                              span.start):
                span = Span(Kind.FAX, span.start, span.end)
            yield span
    yield from find_structured(text)
