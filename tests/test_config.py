"""suture.yml loading: typed gates, exact error positions, suggestions, overrides, schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from suture.config import json_schema, load, parse
from suture.errors import ConfigError
from suture.gates.lint import LintConfig
from suture.gates.tests import TestsConfig


def _parse(text: str, env: dict[str, str] | None = None):
    return parse(text, Path("/nowhere/suture.yml"), env=env or {})


def test_gates_get_their_own_typed_settings():
    cfg = _parse("gates:\n  tests:\n    min_coverage: 80\n  lint: {}\n")
    assert isinstance(cfg.gates["tests"], TestsConfig)
    assert cfg.gates["tests"].min_coverage == 80
    assert isinstance(cfg.gates["lint"], LintConfig)


def test_empty_gate_body_means_defaults():
    cfg = _parse("gates:\n  lint:\n")
    assert cfg.gates["lint"].paths == ["."]


def test_custom_command_gate_by_kind():
    cfg = _parse("gates:\n  typecheck:\n    kind: command\n    run: mypy src\n")
    assert cfg.kind_of("typecheck") == "command"


def test_unknown_key_names_line_column_and_suggests():
    with pytest.raises(ConfigError) as err:
        _parse("gates:\n  tests:\n    min_coverag: 80\n")
    assert str(err.value).startswith("/nowhere/suture.yml:3:5: unknown key 'min_coverag'")
    assert "did you mean 'min_coverage'" in str(err.value)
    assert err.value.exit_code == 2


def test_unknown_top_level_key_suggests():
    with pytest.raises(ConfigError, match=r":1:1: unknown key 'gate' \(did you mean 'gates'"):
        _parse("gate:\n  lint: {}\n")


def test_unknown_gate_suggests():
    with pytest.raises(ConfigError, match=r":2:3: unknown gate 'lnt' \(did you mean 'lint'"):
        _parse("gates:\n  lnt: {}\n")


def test_wrong_type_points_at_the_value():
    with pytest.raises(ConfigError) as err:
        _parse("gates:\n  tests:\n    min_coverage: lots\n")
    assert ":3:19: min_coverage:" in str(err.value)
    assert "'lots'" in str(err.value)


def test_out_of_range_value():
    with pytest.raises(ConfigError, match=r"3:19: min_coverage: Input should be less than"):
        _parse("gates:\n  tests:\n    min_coverage: 150\n")


def test_yaml_syntax_error_has_position():
    with pytest.raises(ConfigError, match=r"suture.yml:\d+:\d+: not valid YAML"):
        _parse("gates:\n  lint: [\n")


def test_top_level_must_be_mapping():
    with pytest.raises(ConfigError, match="expected a mapping"):
        _parse("- a\n- b\n")


def test_needs_must_name_a_configured_gate():
    with pytest.raises(ConfigError, match="needs 'lnt', which is not a configured gate"):
        _parse("gates:\n  lint: {}\n  tests:\n    needs: [lnt]\n")


def test_environment_overrides_file():
    cfg = _parse("timeout: 10\n", env={"SUTURE_TIMEOUT": "99", "SUTURE_JOBS": "3"})
    assert cfg.settings.timeout == 99
    assert cfg.settings.jobs == 3


def test_missing_file_says_run_init(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    assert "no suture.yml" in str(err.value)
    assert "suture init" in err.value.hint


def test_digest_changes_with_settings_only():
    a = _parse("gates:\n  lint: {}\n")
    b = _parse("# a comment\ngates:\n  lint: {}\n")
    c = _parse("gates:\n  lint:\n    paths: [src]\n")
    assert a.digest() == b.digest() != c.digest()


def test_schema_is_valid_and_accepts_real_configs():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    good = {"version": 1, "gates": {"tests": {"min_coverage": 90}, "lint": None,
                                     "mypy": {"kind": "command", "run": "mypy src"}}}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gates": {"tests": {"min_coverag": 1}}}, schema)
