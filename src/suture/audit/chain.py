"""Canonical JSON (RFC 8785 style) and the hashes that chain audit events together."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

from suture.errors import UsageError

GENESIS_HASH = "0" * 64
# Fixed width, so the text sorts in time order and the hash covers exactly what is stored.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MAX_DEPTH = 64
_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]


def utc_text(moment: datetime | None = None) -> str:
    """An aware (or naive-UTC) datetime as fixed-width ISO 8601 UTC text with microseconds."""
    moment = moment or datetime.now(UTC)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime(TIME_FORMAT)


def parse_utc(text: str) -> datetime:
    """The datetime of a `utc_text` string."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def to_jsonable(value: Any, where: str = "payload") -> Any:
    """Plain JSON data from what call sites naturally hold (models, enums, paths, datetimes).

    Raises UsageError naming the offending key for anything JSON cannot express exactly.
    """
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{where} is {value!r}, which JSON cannot represent",
                             hint="record such numbers as strings or leave them out")
        return value
    if isinstance(value, Enum):
        return to_jsonable(value.value, where)
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="json"), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value), where)
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, Decimal):
        return to_jsonable(float(value), where)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise UsageError(f"{where} has a non-string key {key!r}",
                                 hint="JSON object keys must be strings")
            out[key] = to_jsonable(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(items)]
    raise UsageError(f"{where} is a {type(value).__name__}, which is not JSON data",
                     hint="pass str, int, float, bool, None, lists, dicts or pydantic models")


def canonical_json(value: Any) -> str:
    """RFC 8785 style text: keys sorted by UTF-16 units, no whitespace, ECMAScript numbers.

    Accepts only plain JSON data (see `to_jsonable`); NaN, infinities and lone surrogates are
    refused, because two honest writers must never produce different bytes for one value.
    """
    parts: list[str] = []
    _emit(value, parts, 0)
    text = "".join(parts)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError("the payload holds a lone surrogate, which is not valid UTF-8",
                         hint="decode the text properly before recording it") from exc
    return text


def _emit(value: Any, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise UsageError(f"the payload nests deeper than {_MAX_DEPTH} levels",
                         hint="record a flatter payload")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(es_number(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _emit(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        keys = sorted(value, key=_utf16_key)
        for i, key in enumerate(keys):
            if not isinstance(key, str):
                raise UsageError(f"payload key {key!r} is not a string",
                                 hint="JSON object keys must be strings")
            if i:
                out.append(",")
            out.append(_encode_str(key))
            out.append(":")
            _emit(value[key], out, depth + 1)
        out.append("}")
    else:
        raise UsageError(f"a {type(value).__name__} is not JSON data",
                         hint="convert the payload with suture.audit.chain.to_jsonable first")


def _utf16_key(key: Any) -> bytes:
    return str(key).encode("utf-16-be", "surrogatepass")


def es_number(value: float) -> str:
    """A finite float the way ECMAScript's Number.prototype.toString (and RFC 8785) writes it."""
    if not math.isfinite(value):
        raise UsageError(f"{value!r} cannot be written as JSON",
                         hint="record such numbers as strings or leave them out")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, which is what ECMAScript asks for too.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = int(exponent) + k  # value = 0.digits * 10^n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        body = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + body


def sha256_hex(text: str) -> str:
    """The SHA-256 of text's UTF-8 bytes, in lowercase hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(seq: int, time: str, actor: str, action: str, subject: str,
               payload_digest: str, prev_hash: str) -> str:
    """The hash of one event: SHA-256 over the canonical JSON of its header fields."""
    # canonical_json of this fixed, ASCII-keyed header, spelled out: verify runs it per event.
    header = (
        f'{{"action":{_encode_str(action)},"actor":{_encode_str(actor)},'
        f'"payload_digest":{_encode_str(payload_digest)},"prev_hash":{_encode_str(prev_hash)},'
        f'"seq":{int(seq)},"subject":{_encode_str(subject)},"time":{_encode_str(time)}}}'
    )
    return hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()
