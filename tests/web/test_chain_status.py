"""ChainWatcher: background verification of a real audit log, tampering, and a broken database."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from suture.audit import AuditLog
from suture.store.db import resolve_url
from suture.web.chain_status import ChainWatcher
from tests.audit.conftest import drop_guards


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository root whose SQLite audit log holds 8 events (checkpoints every 3)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    with AuditLog.open(repo, checkpoint_every=3) as log:
        for i in range(8):
            log.append("run.started", f"run-{i}", {"i": i})
    return repo


@pytest.fixture
def watcher(root: Path) -> Iterator[ChainWatcher]:
    """A watcher on that log, re-verifying every 50 ms once started; stopped afterwards."""
    w = ChainWatcher(lambda: AuditLog.open(root), interval_s=0.05)
    yield w
    w.stop()


def wait_for(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll until `check()` holds; fail the test if it never does."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the watcher never reached the expected status")
        time.sleep(0.02)


def test_status_is_unknown_before_the_first_verification(watcher: ChainWatcher) -> None:
    s = watcher.status()
    assert s.ok is None and s.checked_at is None and s.result is None
    assert s.problem and "not been verified" in s.problem


def test_intact_log_verifies_ok(watcher: ChainWatcher) -> None:
    s = watcher.refresh()
    assert s.ok is True and s.problem is None
    assert s.events == 8 and s.head_seq == 8
    assert s.checked_at is not None and s.checked_at.tzinfo is not None
    assert s.result is not None and s.result.checkpoints == 2
    assert watcher.status() == s


def test_background_thread_verifies_and_stops(watcher: ChainWatcher) -> None:
    watcher.start()
    assert watcher.running
    wait_for(lambda: watcher.status().ok is True)
    watcher.stop()
    assert not watcher.running


def test_tampered_payload_is_reported(root: Path, watcher: ChainWatcher) -> None:
    assert watcher.refresh().ok is True
    engine = create_engine(resolve_url(root))
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET payload = :p WHERE seq = 3"), {"p": '{"i":300}'})
    engine.dispose()
    s = watcher.refresh()
    assert s.ok is False
    assert s.problem is not None and "payload of event 3" in s.problem
    assert s.events == 2  # events 1 and 2 are still intact
    assert s.head_seq == 8


def test_broken_database_is_a_problem_and_the_thread_lives_on(
        root: Path, watcher: ChainWatcher) -> None:
    db = Path(resolve_url(root).removeprefix("sqlite:///"))
    good = db.with_name("good.db")
    watcher.start()
    wait_for(lambda: watcher.status().ok is True)
    watcher.stop()  # copy the file while nobody has it open
    shutil.copy(db, good)
    db.write_bytes(b"this is not an SQLite database" * 200)
    watcher.start()
    wait_for(lambda: watcher.status().checked_at is not None and watcher.status().ok is None)
    broken = watcher.status()
    assert broken.problem is not None and "could not verify the audit chain" in broken.problem
    assert "not a database" in broken.problem
    assert watcher.running
    shutil.copy(good, db)  # repaired: the same thread verifies it again
    wait_for(lambda: watcher.status().ok is True)
    assert watcher.running


def test_database_down_is_a_problem_not_an_exception(root: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connection refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://suture@127.0.0.1:{port}/suture"
    s = ChainWatcher(lambda: AuditLog.open(root, url)).refresh()
    assert s.ok is None and s.checked_at is not None
    assert s.problem is not None and f"127.0.0.1:{port}" in s.problem
