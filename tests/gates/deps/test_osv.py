"""OSV records and PEP 440 range matching: which versions are affected, and the minimal fix."""

from __future__ import annotations

from typing import Any

import pytest

from suture.gates.deps.osv import match, parse_record


def record(*events: dict[str, str], versions: tuple[str, ...] = (), **extra: Any) -> dict:
    """An OSV record for package `Demo_Pkg` with one ECOSYSTEM range of `events`."""
    ranges = [{"type": "ECOSYSTEM", "events": list(events)}] if events else []
    return {
        "id": "PYSEC-0000-1",
        "aliases": ["GHSA-xxxx-yyyy-zzzz", "CVE-2000-0001"],
        "details": "Something bad.",
        "affected": [
            {
                "package": {"name": "Demo_Pkg", "ecosystem": "PyPI"},
                "ranges": ranges,
                "versions": list(versions),
            }
        ],
        **extra,
    }


def fixed_for(data: dict, version: str) -> str | None | bool:
    """The minimal fixed version, or False when `version` is not affected."""
    advisory = parse_record(data)
    assert advisory is not None
    found = match(advisory, "demo-pkg", version)
    return False if found is None else found.fixed


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1", "2.7.2"), ("2.7.1", "2.7.2"), ("2.7.2rc1", "2.7.2"), ("2.7.2", False), ("3.0", False)],
)
def test_introduced_zero_to_fixed(version: str, expected: object) -> None:
    assert fixed_for(record({"introduced": "0"}, {"fixed": "2.7.2"}), version) == expected


SALT_LIKE = record(
    {"introduced": "0"}, {"fixed": "2015.8.10"},
    {"introduced": "2015.8.11"}, {"fixed": "2015.8.13"},
    {"introduced": "3000"}, {"fixed": "3000.6"},
)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2015.8.9", "2015.8.10"),
        ("2015.8.10", False),  # the gap between two affected ranges
        ("2015.8.11", "2015.8.13"),
        ("2019.2.0", False),
        ("3000.1", "3000.6"),
        ("3000.6", False),
    ],
)
def test_several_introduced_fixed_pairs(version: str, expected: object) -> None:
    assert fixed_for(SALT_LIKE, version) == expected


def test_events_need_not_be_sorted() -> None:
    data = record(
        {"fixed": "3000.6"}, {"introduced": "3000"}, {"fixed": "2.0"}, {"introduced": "0"}
    )
    assert fixed_for(data, "1.0") == "2.0"
    assert fixed_for(data, "2.5") is False
    assert fixed_for(data, "3000.2") == "3000.6"


@pytest.mark.parametrize(
    ("version", "expected"), [("1.0", None), ("1.11.0", None), ("1.11.1", False)]
)
def test_last_affected_has_no_fix(version: str, expected: object) -> None:
    data = record({"introduced": "1.0"}, {"last_affected": "1.11.0"})
    assert fixed_for(data, version) == expected
    assert fixed_for(data, "0.9") is False


def test_limit_bounds_the_range() -> None:
    data = record({"introduced": "1.0"}, {"limit": "2.0"})
    assert fixed_for(data, "1.5") is None
    assert fixed_for(data, "2.0") is False


def test_versions_list_alone_decides_when_there_are_no_ecosystem_ranges() -> None:
    data = record(versions=("1.0", "1.1.0", "2.0.0-alpha2"))
    data["affected"][0]["ranges"] = [
        {"type": "GIT", "repo": "https://github.com/x/y", "events": [{"introduced": "0"}]}
    ]
    assert fixed_for(data, "1.0") is None
    assert fixed_for(data, "1.0.0") is None  # PEP 440: 1.0 == 1.0.0
    assert fixed_for(data, "1.1") is None
    assert fixed_for(data, "2.0.0a2") is None  # normalised spelling of 2.0.0-alpha2
    assert fixed_for(data, "1.2") is False


def test_listed_version_outside_range_is_affected_and_gets_next_fix() -> None:
    data = record({"introduced": "2.0"}, {"fixed": "2.1"}, versions=("1.5",))
    assert fixed_for(data, "1.5") == "2.1"


def test_minimal_fix_is_smallest_fix_above_the_version_across_ranges() -> None:
    data = record({"introduced": "1.0"}, {"fixed": "1.5"})
    data["affected"][0]["ranges"].append(
        {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.2.1"}]}
    )
    assert fixed_for(data, "1.1") == "1.2.1"
    assert fixed_for(data, "1.3") == "1.5"


def test_invalid_pinned_version_matches_only_by_listing() -> None:
    data = record({"introduced": "0"}, {"fixed": "2.0"}, versions=("weird-build",))
    assert fixed_for(data, "weird-build") is None
    assert fixed_for(data, "other-build") is False


def test_other_package_names_do_not_match() -> None:
    advisory = parse_record(record({"introduced": "0"}))
    assert advisory is not None
    assert match(advisory, "Demo.Pkg", "1.0") is not None  # PEP 503 spelling
    assert match(advisory, "demo-pkg2", "1.0") is None


def test_withdrawn_and_non_pypi_records_are_skipped() -> None:
    assert parse_record(record({"introduced": "0"}, withdrawn="2023-06-06T10:37:00Z")) is None
    npm = record({"introduced": "0"})
    npm["affected"][0]["package"]["ecosystem"] = "npm"
    assert parse_record(npm) is None


def test_help_url_prefers_advisory_then_web_then_osv() -> None:
    refs = [
        {"type": "REPORT", "url": "https://bugs.example.test/1"},
        {"type": "WEB", "url": "https://web.example.test/"},
        {"type": "ADVISORY", "url": "https://advisory.example.test/"},
    ]
    assert parse_record(record(references=refs)).url == "https://advisory.example.test/"
    assert parse_record(record(references=refs[:2])).url == "https://web.example.test/"
    assert parse_record(record(references=refs[:1])).url == (
        "https://osv.dev/vulnerability/PYSEC-0000-1"
    )
