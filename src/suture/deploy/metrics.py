"""Extra metrics for the judge: each version's value of the metrics named in `judge.metrics`.

From each instance's Prometheus endpoint (`deploy.metrics_path`, scraped and averaged over the
version's instances), or from a Prometheus server (`deploy.prometheus_url`), where the metric is
a PromQL expression in which `{version}` stands for the version label the router records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from suture.deploy import prometheus
from suture.deploy.settings import DeploySettings
from suture.deploy.state import Instance


def configured(settings: DeploySettings) -> bool:
    """Whether the judge has extra metrics and somewhere to read them."""
    return bool(settings.judge.metrics) and bool(settings.metrics_path or settings.prometheus_url)


def compare(settings: DeploySettings, stable: Sequence[Instance], new: Sequence[Instance]
            ) -> dict[str, tuple[float, float]]:
    """metric -> (stable value, new value); a down or malformed source raises ToolError."""
    if settings.prometheus_url:
        return {name: (_promql(settings.prometheus_url, name, stable),
                       _promql(settings.prometheus_url, name, new))
                for name in settings.judge.metrics}
    base, can = _scraped(settings, stable), _scraped(settings, new)
    return {name: (_value(base, name), _value(can, name)) for name in settings.judge.metrics}


def _scraped(settings: DeploySettings, instances: Sequence[Instance]) -> list[dict[str, float]]:
    return [prometheus.scrape(f"http://127.0.0.1:{i.port}{settings.metrics_path}", timeout=2.0)
            for i in instances]


def _value(scrapes: Sequence[Mapping[str, float]], name: str) -> float:
    """The metric summed over its label sets per instance, averaged over instances (NaN: absent)."""
    per_instance = []
    for samples in scrapes:
        found = [v for key, v in samples.items() if key == name or key.startswith(name + "{")]
        if found:
            per_instance.append(sum(found))
    return sum(per_instance) / len(per_instance) if per_instance else float("nan")


def _promql(url: str, expr: str, instances: Sequence[Instance]) -> float:
    if not instances:
        return float("nan")
    version = instances[0].version
    return prometheus.total(prometheus.query(url, expr.replace("{version}", version), timeout=5.0))
