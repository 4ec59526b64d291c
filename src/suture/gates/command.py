"""The `command` gate: any user command, judged by its exit code."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field

from suture import proc
from suture.gates import files
from suture.gates.interface import Gate, GateConfig, GateContext, GateReport
from suture.model import Finding, Level


class CommandConfig(GateConfig):
    """Settings of a command gate."""

    run: str | list[str] = Field(
        ..., description="The command: a string (split like a shell would) or a list of words."
    )
    shell: bool = Field(False, description="Run through /bin/sh (pipes, &&, globbing).")
    cwd: str = Field(".", description="Folder to run in, relative to the repository root.")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    cache: bool = Field(
        False, description="Reuse the last result while `inputs` are unchanged (off by default)."
    )
    inputs: list[str] = Field(
        default_factory=lambda: ["."], description="Folders whose files key the cache."
    )


class CommandGate(Gate):
    """Runs a user command; a non-zero exit code fails the gate, output is kept in the log."""

    kind = "command"
    description = "any command; its exit code decides"
    Config = CommandConfig
    config: CommandConfig

    @property
    def cacheable(self) -> bool:  # type: ignore[override]
        """Commands may depend on anything, so they are cached only on request."""
        return self.config.cache

    def _argv(self, ctx: GateContext) -> list[str]:
        run = self.config.run
        if self.config.shell:
            return ["/bin/sh", "-c", run if isinstance(run, str) else shlex.join(run)]
        return shlex.split(run) if isinstance(run, str) else list(run)

    def tool_version(self, ctx: GateContext) -> str:
        """The command line itself identifies the tool."""
        return ""

    def input_files(self, ctx: GateContext) -> Iterable[Path]:
        """Files under `inputs`."""
        return files.select(ctx.root, under=self.config.inputs, exclude=self.config.exclude)

    def extra_cache_inputs(self, ctx: GateContext) -> str:
        """The command and its environment."""
        return repr((self._argv(ctx), sorted(self.config.env.items()), self.config.cwd))

    def run(self, ctx: GateContext) -> GateReport:
        """Run the command; exit 0 passes, anything else is one error finding."""
        argv = self._argv(ctx)
        # The project's interpreter comes first on PATH so `python`, `pytest`... are the project's.
        path = f"{Path(ctx.python).parent}:{proc.tool_env().get('PATH', '')}"
        res = proc.run(argv, cwd=ctx.root / self.config.cwd,
                       timeout=self.config.timeout or ctx.timeout,
                       env={"PATH": path, **self.config.env})
        log = proc.clip(res.stdout + ("\n" if res.stdout and res.stderr else "") + res.stderr)
        if res.returncode == 0:
            return GateReport(summary="exit code 0", log=log, metrics={"exit_code": 0.0})
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or [""]
        return GateReport(
            findings=(Finding(
                rule_id="command/exit-code", level=Level.ERROR, tool=self.name,
                message=f"`{shlex.join(argv)}` exited with {res.returncode}: {tail[0][:300]}",
                fix_hint="run the command locally to see the full output",
            ),),
            summary=f"exit code {res.returncode}",
            log=log,
            metrics={"exit_code": float(res.returncode)},
        )
