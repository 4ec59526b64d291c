"""The `deploy:` section of suture.yml: how to start the app, environments, strategies, SLOs."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from suture.deploy.model import Strategy


class Approval(StrEnum):
    """Whether a person other than the change's author must approve before traffic moves."""

    NONE = "none"
    REQUIRED = "required"
    HIGH_RISK = "high-risk"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SLO(_Section):
    """Absolute limits a new version must stay under, whatever the stable version does."""

    error_rate: float | None = Field(
        default=0.05, ge=0, le=1, description="Highest share of 5xx / failed requests (0.05 = 5%)."
    )
    p95_latency_s: float | None = Field(
        default=None, gt=0, description="Highest 95th-percentile latency in seconds."
    )


class JudgeSettings(_Section):
    """How the canary judge compares the new version with the stable one."""

    min_requests: int = Field(
        default=50,
        ge=1,
        description="Requests the canary must have served before any verdict but "
        "`continue` (no verdict on too little traffic).",
    )
    alpha: float = Field(
        default=0.01,
        gt=0,
        lt=0.5,
        description="False-alarm rate over the whole step, however often the judge looks.",
    )
    latency_effect: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Smallest latency difference worth a rollback, as a Mann-Whitney effect "
        "size (rank-biserial correlation, 0-1).",
    )
    latency_min_delta_s: float = Field(
        default=0.02,
        ge=0,
        description="Smallest median latency increase in seconds worth a rollback.",
    )
    error_rate_margin: float = Field(
        default=0.005,
        ge=0,
        le=1,
        description="Error-rate increase over stable tolerated before it counts (0.005 = 0.5 pp).",
    )
    metrics: dict[str, str] = Field(
        default_factory=dict,
        description="Extra Prometheus metrics to compare: name -> 'lower' or 'higher' is better.",
    )


class CanarySettings(_Section):
    """Weighted steps of a canary release."""

    steps: list[int] = Field(
        default_factory=lambda: [5, 25, 50, 100],
        description="Traffic percentages for the new version, in order; the last must be 100.",
    )
    interval_s: float = Field(
        default=30.0, gt=0, description="Longest time a step lasts before the judge must decide."
    )
    look_s: float = Field(
        default=1.0, gt=0, description="How often the judge looks at the traffic within a step."
    )

    @field_validator("steps")
    @classmethod
    def _rising_to_100(cls, steps: list[int]) -> list[int]:
        if (
            not steps
            or steps[-1] != 100
            or any(not 0 < s <= 100 for s in steps)
            or steps != sorted(set(steps))
        ):
            raise ValueError("steps must rise strictly, each in 1..100, and end at 100")
        return steps


class Environment(_Section):
    """One place the app is deployed to, with its own port and approval policy."""

    port: int = Field(ge=1, le=65535, description="Port the router listens on (127.0.0.1).")
    approval: Approval = Field(
        default=Approval.NONE,
        description="none, required (every release), or high-risk (only "
        "releases whose risk is high).",
    )
    approval_timeout_s: float = Field(
        default=3600.0, gt=0, description="How long a deploy waits for approval before it fails."
    )
    strategy: Strategy | None = Field(
        default=None, description="Strategy for this environment; default: deploy.strategy."
    )


class DeploySettings(_Section):
    """How `suture deploy` starts the app and ships new versions of it."""

    command: str | None = Field(
        default=None,
        description="Command that starts one instance of the app; `{port}` is replaced "
        "by its port. Runs in a checkout of the release's commit, in the project directory.",
    )
    health_path: str = Field(
        default="/health", description="Path that answers 2xx once an instance is ready."
    )
    metrics_path: str | None = Field(
        default=None, description="Prometheus metrics path of each instance, scraped when set."
    )
    prometheus_url: str | None = Field(
        default=None, description="A Prometheus server to query with PromQL instead of scraping."
    )
    ready_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds an instance has to become healthy before the release fails.",
    )
    router: str = Field(
        default="builtin", description="builtin (asyncio proxy, no install) or nginx."
    )
    replicas: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Instances per version (rolling replaces them in batches).",
    )
    batch_size: int = Field(default=1, ge=1, description="Instances replaced at once by rolling.")
    strategy: Strategy = Field(
        default=Strategy.AUTO, description="auto (from risk), rolling, canary or blue-green."
    )
    canary: CanarySettings = Field(default_factory=CanarySettings)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    slo: SLO = Field(default_factory=SLO)
    environments: dict[str, Environment] = Field(
        default_factory=dict, description="Environment name -> its port and approval policy."
    )
