"""An unexpected crash leaves a log with what a bug report needs."""

from __future__ import annotations

from suture import __version__
from suture.cli import crash


def test_crash_log_has_versions_command_and_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        raise RuntimeError("something broke")
    except RuntimeError as exc:
        path = crash.write_log(exc)
    text = path.read_text()
    assert path == tmp_path / ".suture" / "crash.log"
    assert f"suture: {__version__}" in text
    assert "python: 3." in text
    assert "ruff:" in text and "sqlalchemy:" in text
    assert "RuntimeError: something broke" in text
