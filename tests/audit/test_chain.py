"""Canonical JSON follows RFC 8785, so an auditor's own JCS library gets the same bytes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath

import pytest
from pydantic import BaseModel

from suture.audit.chain import (
    GENESIS_HASH,
    canonical_json,
    es_number,
    event_hash,
    parse_utc,
    to_jsonable,
    utc_text,
)
from suture.audit.events import AuditAction, check_action
from suture.errors import UsageError


def test_keys_sort_by_utf16_code_units_as_rfc8785_section_3_2_3() -> None:
    # The RFC's own example: the emoji (a surrogate pair) sorts before U+FB33 in UTF-16,
    # although its code point is larger.
    doc = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet",
           "1": "One", "\U0001f600": "Emoji", "\u0080": "Control", "\u00f6": "o umlaut"}
    text = canonical_json(doc)
    keys = list(json.loads(text))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (4.5, "4.5"), (0.002, "0.002"),
    (1e20, "100000000000000000000"), (1e21, "1e+21"), (1e-6, "0.000001"), (1e-7, "1e-7"),
    (333333333.3333333, "333333333.3333333"), (9007199254740992.0, "9007199254740992"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (5e-324, "5e-324"),
    (295147905179352830000.0, "295147905179352830000"), (123.456e-10, "1.23456e-8"),
])
def test_numbers_are_written_as_ecmascript_does(value: float, expected: str) -> None:
    assert es_number(value) == expected
    assert canonical_json([value]) == f"[{expected}]"


def test_no_whitespace_minimal_escapes_and_raw_utf8() -> None:
    text = canonical_json({"b": [1, True, None], "a": "line\nq\"\\\u001f é \u2028"})
    assert text == '{"a":"line\\nq\\"\\\\\\u001f é \u2028","b":[1,true,null]}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_refused(bad: float) -> None:
    with pytest.raises(UsageError, match="JSON"):
        to_jsonable({"x": {"y": bad}})
    with pytest.raises(UsageError):
        canonical_json({"x": bad})


def test_lone_surrogates_and_non_string_keys_are_refused() -> None:
    with pytest.raises(UsageError, match="surrogate"):
        canonical_json({"x": "\ud800"})
    with pytest.raises(UsageError, match="non-string key"):
        to_jsonable({1: "a"})


def test_call_site_types_become_plain_json() -> None:
    class Model(BaseModel):
        status: AuditAction
        when: datetime

    moment = datetime(2026, 11, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    data = to_jsonable({"m": Model(status=AuditAction.FIX_COMMIT, when=moment),
                        "p": PurePosixPath("src/app.py"), "t": ("a", 1), "d": moment})
    # A model keeps its own JSON form; a bare datetime becomes fixed-width UTC.
    assert data == {"m": {"status": "fix.commit", "when": "2026-11-01T09:30:00+02:00"},
                    "p": "src/app.py", "t": ["a", 1], "d": "2026-11-01T07:30:00.000000Z"}
    with pytest.raises(UsageError, match="object"):
        to_jsonable({"x": object()})


def test_event_hash_is_sha256_of_the_canonical_header() -> None:
    header = {"seq": 7, "time": "2026-11-01T07:30:00.000000Z", "actor": "Ann <ann@ex.org>",
              "action": "fix.commit", "subject": "\u00e9t\u00e9/\U0001f600",
              "payload_digest": "ab" * 32, "prev_hash": GENESIS_HASH}
    expected = hashlib.sha256(canonical_json(header).encode("utf-8")).hexdigest()
    assert event_hash(**header) == expected
    assert event_hash(**{**header, "seq": 8}) != expected


def test_times_are_fixed_width_utc_and_round_trip() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert utc_text(moment) == "2026-01-02T03:04:05.000006Z"
    assert parse_utc(utc_text(moment)) == moment
    assert len(utc_text()) == 27


def test_actions_are_extendable_but_well_formed() -> None:
    assert check_action(AuditAction.RUN_STARTED) == "run.started"
    assert check_action("deploy.paused") == "deploy.paused"
    assert check_action("rollback") == "rollback"
    for bad in ("Run.Started", "run started", "", "run..x", "x" * 65):
        with pytest.raises(UsageError):
            check_action(bad)
