"""Rendering runs for the terminal: live progress, the summary table, the findings."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from suture.model import Level, Run, RunStatus, StageResult, StageStatus

STATUS_STYLE = {
    StageStatus.PASSED: ("passed", "green"),
    StageStatus.FAILED: ("FAILED", "bold red"),
    StageStatus.ERROR: ("ERROR", "bold magenta"),
    StageStatus.SKIPPED: ("skipped", "yellow"),
}
RUN_STYLE = {
    RunStatus.PASSED: "bold green",
    RunStatus.FAILED: "bold red",
    RunStatus.ERROR: "bold magenta",
    RunStatus.RUNNING: "yellow",
}
MAX_FINDINGS_SHOWN = 10


class LiveProgress:
    """Shows which gates are running with a spinner and prints a line as each one ends."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.done = 0
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()
        self.status = console.status("starting gates", spinner="dots")

    def __enter__(self) -> LiveProgress:
        self.status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.status.__exit__(None, None, None)

    def _refresh(self) -> None:
        now = time.monotonic()
        names = ", ".join(f"{n} {now - t:.0f}s" for n, t in self.started.items())
        self.status.update(f"[{self.done}/{self.total}] running: {names or '-'}")

    def stage_started(self, name: str) -> None:
        """Note a gate as running."""
        with self.lock:
            self.started[name] = time.monotonic()
            if not self.console.is_terminal:
                self.console.print(f"  ... {name}")
            self._refresh()

    def stage_finished(self, result: StageResult) -> None:
        """Print the gate's one-line outcome."""
        with self.lock:
            self.started.pop(result.name, None)
            self.done += 1
            label, style = STATUS_STYLE[result.status]
            cached = " (cached)" if result.cached else ""
            self.console.print(
                f"  [{style}]{label:>7}[/] {escape(result.name)} "
                f"[dim]{result.duration_s:.1f}s{cached}[/] {escape(result.summary)}"
            )
            self._refresh()


def summary_table(run: Run) -> Table:
    """One row per gate: status, findings, duration, cache, summary."""
    table = Table(title=f"suture run {run.run_id[:12]}", title_justify="left", expand=False)
    for col in ("gate", "status", "new / all findings", "time", "cached", "summary"):
        table.add_column(col, overflow="fold")
    for s in run.stages:
        label, style = STATUS_STYLE[s.status]
        table.add_row(
            escape(s.name), f"[{style}]{label}[/]",
            f"{len(s.new_findings)} / {len(s.findings)}", f"{s.duration_s:.1f}s",
            "yes" if s.cached else "", escape(s.summary),
        )
    return table


def print_run(console: Console, run: Run, verbose: bool = False) -> None:
    """The summary table, the findings that fail gates, errors, and a closing line."""
    console.print(summary_table(run))
    for s in run.stages:
        if s.status == StageStatus.ERROR:
            console.print(f"\n[bold magenta]{escape(s.name)}: {escape(s.summary)}[/]")
            if s.log:
                tail = "\n".join(s.log.strip().splitlines()[-15:])
                console.print(f"[dim]{escape(tail)}[/]")
        shown = [f for f in s.new_findings if verbose or f.level == Level.ERROR]
        if not shown:
            continue
        console.print(f"\n[bold]{escape(s.name)}[/] ({len(shown)} new):")
        for f in shown[:MAX_FINDINGS_SHOWN]:
            where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or "-")
            cwe = f" {f.cwe}" if f.cwe else ""
            console.print(f"  [cyan]{escape(where)}[/] [bold]{escape(f.rule_id)}[/]{cwe} "
                          f"{escape(f.message)}")
            if f.fix_hint:
                console.print(f"      [dim]fix: {escape(f.fix_hint)}[/]")
        if len(shown) > MAX_FINDINGS_SHOWN:
            console.print(f"  ... and {len(shown) - MAX_FINDINGS_SHOWN} more "
                          f"(suture runs show {run.run_id[:8]} --format text)")
    counts = {st: sum(1 for s in run.stages if s.status == st) for st in StageStatus}
    parts = [f"{n} {st.value}" for st, n in counts.items() if n]
    console.print(
        f"\n[{RUN_STYLE[run.status]}]{run.status.value}[/]: {', '.join(parts) or 'no gates'} "
        f"in {run.duration_s:.1f}s  [dim](run {run.run_id[:12]}"
        f"{', commit ' + run.commit[:10] if run.commit else ''}{', dirty' if run.dirty else ''})[/]"
    )
