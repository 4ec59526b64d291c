"""The format registry: every format renders, names resolve, unknown names fail clearly."""

from __future__ import annotations

import pytest

from suture.errors import UsageError
from suture.pipeline.reports import RENDERERS, SUFFIXES, Format, parse_format, render


def test_every_format_has_a_renderer_and_a_suffix(sample_run):
    assert set(RENDERERS) == set(Format) == set(SUFFIXES)
    for fmt in Format:
        out = render(sample_run, fmt)
        assert isinstance(out, str) and out.strip(), fmt


def test_render_accepts_format_names_case_insensitively(sample_run):
    assert render(sample_run, "JSON") == render(sample_run, Format.JSON)
    assert parse_format(" Sarif ") is Format.SARIF


def test_unknown_format_names_the_valid_ones(sample_run):
    with pytest.raises(UsageError) as err:
        render(sample_run, "pdf")
    assert "'pdf'" in str(err.value)
    assert "markdown" in err.value.hint and "junit" in err.value.hint
