"""infra/monitoring: the Prometheus config, alert rules and Grafana dashboard use what the
services serve."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import jobrunner_api.metrics  # noqa: F401 - registers the API's metrics
import jobrunner_master.metrics  # noqa: F401 - registers the master's metrics
from tests.support.paths import ROOT

MONITORING = ROOT / "infra" / "monitoring"
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def served() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def referenced(text: str) -> set[str]:
    return set(re.findall(r"\bjobrunner_[a-z_]+\b", text))


def base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_every_jobrunner_metric_the_rules_and_dashboard_name_is_served() -> None:
    names = {base(name) for name in served()}
    rules = (MONITORING / "alerts.yml").read_text()
    dashboard = (MONITORING / "grafana/dashboards/jobrunner.json").read_text()
    used = {base(name) for name in referenced(rules) | referenced(dashboard)}
    assert used, "no jobrunner metric referenced"
    assert used <= names, f"not served by the API or the master: {sorted(used - names)}"


def test_the_rules_are_valid_prometheus_rule_groups() -> None:
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    alerts = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    # The alerts issue 11 asks for: queue wait, failure rate, no worker online, dead letters
    assert {"JobrunnerQueueWaitHigh", "JobrunnerFailureRateHigh", "JobrunnerNoWorkerOnline",
            "JobrunnerDeadLetters"} <= set(alerts)
    for name, rule in alerts.items():
        assert rule["expr"].strip() and rule["annotations"]["summary"], name
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}, name


def test_prometheus_loads_the_rules_and_grafana_the_dashboard() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {scrape["job_name"] for scrape in config["scrape_configs"]}
    assert {"jobrunner-api", "jobrunner-master", "jobrunner-worker", "rabbitmq-queues"} <= jobs
    dashboard = json.loads((MONITORING / "grafana/dashboards/jobrunner.json").read_text())
    assert dashboard["uid"] == "jobrunner" and len(dashboard["panels"]) >= 8
    provider = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/jobrunner.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
