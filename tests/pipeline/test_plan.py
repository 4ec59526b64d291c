"""Planning: dependency order, subsets, cycles."""

from __future__ import annotations

from pathlib import Path

import pytest

from suture.config import parse
from suture.errors import ConfigError, UsageError
from suture.pipeline.plan import plan


def _cfg(text: str):
    return parse(text, Path("suture.yml"), env={})


def test_needs_come_first():
    cfg = _cfg("gates:\n  tests:\n    needs: [lint]\n  lint: {}\n  sast: {}\n")
    order = list(plan(cfg))
    assert order.index("lint") < order.index("tests")
    assert plan(cfg)["tests"] == ("lint",)


def test_only_brings_needed_gates():
    cfg = _cfg("gates:\n  tests:\n    needs: [lint]\n  lint: {}\n  sast: {}\n")
    assert set(plan(cfg, ["tests"])) == {"tests", "lint"}


def test_unknown_only_gate():
    with pytest.raises(UsageError, match="no gate named 'nope'"):
        plan(_cfg("gates:\n  lint: {}\n"), ["nope"])


def test_disabled_gates_are_left_out():
    assert list(plan(_cfg("gates:\n  lint:\n    enabled: false\n  sast: {}\n"))) == ["sast"]


def test_cycle_is_a_config_error():
    cfg = _cfg("gates:\n  lint:\n    needs: [sast]\n  sast:\n    needs: [lint]\n")
    with pytest.raises(ConfigError, match="cycle"):
        plan(cfg)
