"""Pack loading: shipped packs are valid, NIST ids exist, and broken packs are named errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suture.compliance.evidence import REGISTRY
from suture.compliance.packs import BUILTIN_DIR, PackError, available, load_pack, resolve

from .conftest import write_pack

CATALOG = (Path(__file__).resolve().parents[3] / "shared" / "data" / "oscal"
           / "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json")
SHIPPED = {"hipaa", "soc2", "fhir", "gdpr", "iso27001", "nist-800-53"}


def _catalog_ids() -> set[str]:
    ids: set[str] = set()

    def walk(node: dict[str, object]) -> None:
        for child in node.get("controls", []) or []:  # type: ignore[union-attr]
            ids.add(child["id"])
            walk(child)

    catalog = json.loads(CATALOG.read_text())["catalog"]
    for group in catalog.get("groups", []):
        walk(group)
    return ids


def test_every_shipped_pack_loads_and_uses_known_queries(tmp_path: Path) -> None:
    found = available(tmp_path)
    assert set(found) >= SHIPPED
    for pid in SHIPPED:
        pack = load_pack(found[pid])
        assert pack.id == pid and pack.controls
        for control in pack.controls:
            assert control.evidence or control.manual
            for ref in control.evidence:
                assert ref.query in REGISTRY


def test_required_control_ids_are_shipped(tmp_path: Path) -> None:
    ids = {pid: {c.id for c in load_pack(BUILTIN_DIR / f"{pid}.yml").controls}
           for pid in ("hipaa", "soc2", "gdpr", "iso27001")}
    assert ids["hipaa"] == {"164.312(a)(1)", "164.312(b)", "164.312(c)(1)", "164.312(d)",
                            "164.312(e)(1)"}
    assert ids["soc2"] == {"CC8.1", "CC7.1", "CC7.2", "CC7.3", "CC7.4", "CC6.1", "CC6.6",
                           "CC6.7", "CC6.8"}
    assert ids["gdpr"] == {"Art.25", "Art.32"}
    assert ids["iso27001"] == {f"A.8.{n}" for n in range(25, 34)}


@pytest.mark.skipif(not CATALOG.exists(), reason="OSCAL catalog not available")
def test_nist_control_ids_exist_in_the_rev5_moderate_catalog() -> None:
    catalog = _catalog_ids()
    assert "sa-11" in catalog and len(catalog) > 200
    used = [c.id for c in load_pack(BUILTIN_DIR / "nist-800-53.yml").controls]
    assert {"sa-11", "ra-5", "cm-3", "au-9", "si-2"} <= set(used)
    assert [i for i in used if i not in catalog] == []


def test_unknown_query_names_file_control_and_query(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "bad.yml", "  - id: X-1\n    title: t\n    evidence:\n"
                      "      - query: no_such_query\n")
    with pytest.raises(PackError) as err:
        load_pack(path)
    assert str(path) in err.value.message and "X-1" in err.value.message
    assert "no_such_query" in err.value.message and err.value.exit_code == 2


def test_bad_params_name_the_query(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "bad.yml", "  - id: C9\n    title: t\n    evidence:\n"
                      "      - query: coverage_at_least\n        params: {minimum: 80}\n")
    with pytest.raises(PackError, match=r"bad\.yml, control C9, query coverage_at_least"):
        load_pack(path)


def test_control_without_evidence_or_manual_reason_is_refused(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "bad.yml", "  - id: EMPTY\n    title: t\n")
    with pytest.raises(PackError, match="control EMPTY"):
        load_pack(path)


def test_repo_packs_folder_is_searched_and_overrides(tmp_path: Path) -> None:
    write_pack(tmp_path / ".suture" / "packs" / "hipaa.yml",
               "  - id: A\n    title: t\n    evidence:\n      - query: audit_chain_intact\n",
               pack_id="hipaa")
    assert resolve("hipaa", tmp_path).title == "Team pack"
    with pytest.raises(PackError, match="no compliance pack 'nope'"):
        resolve("nope", tmp_path)
