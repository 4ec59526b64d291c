"""Reading pins from pip requirements files, the way pip reads them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from suture.errors import ToolError
from suture.gates.deps.records import Pin
from suture.gates.deps.requirements import read_requirements


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_exact_pins_with_comments_markers_extras_and_hashes(tmp_path: Path) -> None:
    req = write(tmp_path, "requirements.txt", """
        # application dependencies
        Jinja2==2.7.1  # pinned for the templates
        requests[security]==2.19.0 ; python_version >= "3.8"
        flask===0.12
        --index-url https://pypi.example.test/simple

        Django==3.2.0 \\
            --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000 \\
            --hash=sha256:1111111111111111111111111111111111111111111111111111111111111111
        urllib3==1.26.4 --hash=sha256:22222222222222222222222222222222222222222222222222222222
        """)
    found = read_requirements(req, tmp_path)
    assert found.pins == (
        Pin("jinja2", "2.7.1", "requirements.txt", 2),
        Pin("requests", "2.19.0", "requirements.txt", 3),
        Pin("flask", "0.12", "requirements.txt", 4),
        Pin("django", "3.2.0", "requirements.txt", 7),
        Pin("urllib3", "1.26.4", "requirements.txt", 10),
    )
    assert found.unpinned == ()


def test_loose_requirements_are_reported_as_unpinned(tmp_path: Path) -> None:
    req = write(tmp_path, "requirements.txt", """
        requests>=2.0
        flask
        django==3.*
        jinja2==2.7.1
        """)
    found = read_requirements(req, tmp_path)
    assert [p.name for p in found.pins] == ["jinja2"]
    assert [(u.name, u.requirement, u.line) for u in found.unpinned] == [
        ("requests", "requests>=2.0", 1),
        ("flask", "flask", 2),
        ("django", "django==3.*", 3),
    ]


def test_nested_includes_and_constraints(tmp_path: Path) -> None:
    write(tmp_path, "requirements/base.txt", """
        -c ../constraints.txt
        jinja2==2.7.1
        markupsafe
        """)
    write(tmp_path, "requirements/dev.txt", "--requirement=base.txt\npytest==8.0.0\n")
    write(tmp_path, "constraints.txt", "markupsafe==0.23\nsix>=1.0\n")
    top = write(tmp_path, "requirements.txt", "-r requirements/dev.txt\n-r requirements/base.txt\n")
    found = read_requirements(top, tmp_path)
    assert sorted((p.name, p.version, p.source_file, p.line) for p in found.pins) == [
        ("jinja2", "2.7.1", "requirements/base.txt", 2),
        ("markupsafe", "0.23", "constraints.txt", 1),
        ("pytest", "8.0.0", "requirements/dev.txt", 2),
    ]
    # The constraint pins markupsafe, but `six>=1.0` in a constraints file installs nothing.
    assert [u.name for u in found.unpinned] == ["markupsafe"]
    assert {p.name for p in found.files} == {
        "requirements.txt", "dev.txt", "base.txt", "constraints.txt",
    }


def test_include_cycle_is_read_once(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "-r b.txt\njinja2==2.7.1\n")
    write(tmp_path, "b.txt", "-r a.txt\nflask==0.12\n")
    found = read_requirements(tmp_path / "a.txt", tmp_path)
    assert sorted(p.name for p in found.pins) == ["flask", "jinja2"]


def test_missing_include_names_file_and_line(tmp_path: Path) -> None:
    req = write(tmp_path, "requirements.txt", "jinja2==2.7.1\n-r missing.txt\n")
    with pytest.raises(ToolError, match=r"requirements.txt:2: -r missing.txt names a file"):
        read_requirements(req, tmp_path)


def test_invalid_requirement_names_file_and_line(tmp_path: Path) -> None:
    req = write(tmp_path, "requirements.txt", "jinja2==2.7.1\nflask=>1.0\n")
    with pytest.raises(ToolError, match=r"requirements.txt:2: not a valid requirement") as err:
        read_requirements(req, tmp_path)
    assert err.value.hint


def test_editables_paths_and_urls_are_not_pins(tmp_path: Path) -> None:
    req = write(tmp_path, "requirements.txt", """
        -e .
        ./vendor/thing
        https://files.example.test/pkg-1.0.tar.gz
        mylib @ https://files.example.test/mylib-1.0.tar.gz
        jinja2==2.7.1
        """)
    found = read_requirements(req, tmp_path)
    assert [p.name for p in found.pins] == ["jinja2"]
    # A direct reference has a name but no version the advisories can be matched against.
    assert [u.name for u in found.unpinned] == ["mylib"]


def test_environment_variables_are_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JINJA_VERSION", "2.7.1")
    req = write(tmp_path, "requirements.txt", "jinja2==${JINJA_VERSION}\n")
    assert read_requirements(req, tmp_path).pins[0].version == "2.7.1"
