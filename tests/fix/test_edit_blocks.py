"""Search/replace edits: unique matches only, never outside the project's source, all or none."""

from __future__ import annotations

from pathlib import Path

import pytest

from suture.fix.remedies.edit_blocks import (
    EditBlock,
    EditRefused,
    apply_edits,
    parse_blocks,
    protected_reason,
)

DOSING = '''\
def dose(weight_kg: float) -> float:
    """Milligrams for a patient of this weight."""
    if weight_kg <= 0:
        raise ValueError("weight must be positive")
    return weight_kg * 1.5


def rate(dose_mg: float) -> float:
    return dose_mg / 60
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "clinic").mkdir(parents=True)
    (root / "clinic" / "dosing.py").write_text(DOSING)
    (root / "clinic" / "notes.txt").write_text("x = 1\nx = 1\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_dosing.py").write_text("def test_dose():\n    assert True\n")
    return root


def read(root: Path, rel: str = "clinic/dosing.py") -> str:
    return (root / rel).read_text()


def refused(root: Path, *edits: EditBlock) -> str:
    with pytest.raises(EditRefused) as info:
        apply_edits(root, edits)
    return info.value.message


def test_exact_match_is_replaced_and_restore_undoes_it(project):
    applied = apply_edits(project, [EditBlock("clinic/dosing.py", "return weight_kg * 1.5",
                                              "return weight_kg * 15")])
    assert applied.paths == ("clinic/dosing.py",)
    assert read(project) == DOSING.replace("* 1.5", "* 15")
    applied.restore()
    assert read(project) == DOSING


def test_several_edits_to_one_file_apply_in_order(project):
    apply_edits(project, [
        EditBlock("clinic/dosing.py", "* 1.5", "* 2.0"),
        EditBlock("clinic/dosing.py", "return weight_kg * 2.0", "return round(weight_kg * 2.0, 1)"),
    ])
    assert "return round(weight_kg * 2.0, 1)" in read(project)


def test_whitespace_slips_fall_back_to_a_unique_line_match_and_keep_indentation(project):
    # The model lost the indentation and doubled a space: still one place, re-indented.
    search = "if weight_kg  <= 0:\n    raise ValueError(\"weight must be positive\")\n"
    replace = "if weight_kg <= 0 or weight_kg > 500:\n    raise ValueError(\"implausible\")\n"
    apply_edits(project, [EditBlock("clinic/dosing.py", search, replace)])
    assert read(project) == DOSING.replace(
        '    if weight_kg <= 0:\n        raise ValueError("weight must be positive")\n',
        '    if weight_kg <= 0 or weight_kg > 500:\n        raise ValueError("implausible")\n')


def test_no_match_and_ambiguous_matches_are_refused(project):
    assert "not found" in refused(project, EditBlock("clinic/dosing.py", "return 42", "return 0"))
    assert "more than once" in refused(project, EditBlock("clinic/notes.txt", "x = 1", "x = 2"))
    # Ambiguous also after normalising whitespace.
    (project / "clinic" / "twice.py").write_text("a = 1\nif a:\n    a = 1\n")
    assert "more than one place" in refused(project, EditBlock("clinic/twice.py", "a  =  1", "a=2"))
    assert read(project, "clinic/twice.py") == "a = 1\nif a:\n    a = 1\n"


def test_paths_that_escape_the_repository_are_refused(project, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    (project / "clinic" / "link.py").symlink_to(outside)
    (project / "vendor").symlink_to(tmp_path)
    for path in ("../outside.py", "clinic/../../outside.py", str(outside), "/etc/passwd",
                 "clinic/link.py", "vendor/outside.py"):
        message = refused(project, EditBlock(path, "SECRET = 1", "SECRET = 2"))
        assert "outside" in message or ".." in message or "absolute" in message, message
    assert outside.read_text() == "SECRET = 1\n"


@pytest.mark.parametrize("path", [
    "tests/test_dosing.py", "clinic/test_dosing.py", "clinic/dosing_test.py", "conftest.py",
    "clinic/tests/helpers.py", ".github/workflows/ci.yml", ".gitlab-ci.yml", ".ci/run.sh",
    "suture.yml", ".secrets.baseline", "suture-quarantine.json", ".git/config",
])
def test_protected_files_are_never_edited(project, path):
    assert protected_reason(path) is not None
    target = project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("value = 1\n")
    message = refused(project, EditBlock(path, "value = 1", "value = 2"))
    assert "may not be edited" in message
    assert target.read_text() == "value = 1\n"
    assert protected_reason("clinic/dosing.py") is None


def test_a_symlink_into_a_test_file_is_refused(project):
    (project / "clinic" / "alias.py").symlink_to(project / "tests" / "test_dosing.py")
    message = refused(project, EditBlock("clinic/alias.py", "assert True", "assert 1"))
    assert "test file" in message


def test_redaction_placeholders_are_refused(project):
    # Brackets that are no placeholder kind are ordinary text (here: simply not found).
    assert "not found" in refused(project, EditBlock("clinic/dosing.py", "x[NUMBER_1]", "x"))
    message = refused(project, EditBlock("clinic/dosing.py", 'ssn = "[SSN_1]"', "ssn = None"))
    assert "[SSN_1]" in message and "placeholder" in message
    message = refused(project, EditBlock("clinic/dosing.py", "return weight_kg * 1.5",
                                         "return lookup('[NAME_2]')"))
    assert "replace text contains [NAME_2]" in message
    assert read(project) == DOSING


def test_one_bad_edit_rejects_the_whole_answer(project):
    (project / "clinic" / "units.py").write_text("MG = 1\n")
    message = refused(project,
                      EditBlock("clinic/units.py", "MG = 1", "MG = 1000"),
                      EditBlock("clinic/dosing.py", "* 1.5", "* 2"),
                      EditBlock("tests/test_dosing.py", "assert True", "pass"))
    assert message.startswith("edit 3 (tests/test_dosing.py)")
    assert read(project, "clinic/units.py") == "MG = 1\n" and read(project) == DOSING


def test_new_files_empty_files_broken_python_and_no_ops_are_refused(project):
    assert "does not exist" in refused(project, EditBlock("clinic/new.py", "x", "y"))
    assert not (project / "clinic" / "new.py").exists()
    assert "left empty" in refused(project, EditBlock("clinic/dosing.py", DOSING, ""))
    broken = EditBlock("clinic/dosing.py", "def rate(dose_mg: float)", "def rate(dose_mg: float")
    assert "would not parse" in refused(project, broken)
    assert "identical" in refused(project, EditBlock("clinic/dosing.py", "* 1.5", "* 1.5"))
    assert "empty" in refused(project, EditBlock("clinic/dosing.py", "  \n", "x = 1\n"))
    assert "no edits" in refused(project)
    assert read(project) == DOSING


def test_parse_blocks_reads_search_replace_blocks():
    text = (
        "Here is the fix.\n\nclinic/dosing.py\n```python\n<<<<<<< SEARCH\n"
        "    return weight_kg * 1.5\n=======\n    return weight_kg * 15\n>>>>>>> REPLACE\n```\n"
        "clinic/units.py\n<<<<<<< SEARCH\nMG = 1\n=======\nMG = 1000\n>>>>>>> REPLACE\n"
    )
    assert parse_blocks(text) == [
        EditBlock("clinic/dosing.py", "    return weight_kg * 1.5\n",
                  "    return weight_kg * 15\n"),
        EditBlock("clinic/units.py", "MG = 1\n", "MG = 1000\n"),
    ]
    assert parse_blocks("no blocks here") == []
