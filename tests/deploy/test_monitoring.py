"""infra/monitoring: the Prometheus config, alert rules and Grafana dashboard use what the
services serve, and the compose profile `monitoring` runs them against the compose services."""

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import jobrunner_api.metrics  # noqa: F401 - registers the API's metrics
import jobrunner_master.metrics  # noqa: F401 - registers the master's metrics
from tests.deploy.files import PLATFORM_FILE, services
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


# --- the compose profile `monitoring` (checked against the compose files, no Docker engine) ----

PLATFORM = services(PLATFORM_FILE)
# Where each scraped service serves /metrics, as docker-compose.yaml configures it.
METRICS_PORTS = {
    "api": int(PLATFORM["api"]["environment"]["PORT"]),
    "master": int(PLATFORM["master"]["environment"]["PORT"]),
    "worker": int(PLATFORM["worker"]["environment"]["WORKER_HEALTH_PORT"]),
}


def prometheus_config() -> dict[str, Any]:
    return yaml.safe_load((MONITORING / "prometheus.yml").read_text())


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Where each file or folder of the repository is mounted: {target: source}."""
    return {
        volume.split(":")[1]: volume.split(":")[0]
        for volume in service.get("volumes", []) if volume.startswith("./")
    }


def scrape_problems(config: dict[str, Any], platform: dict[str, dict[str, Any]]) -> list[str]:
    """What keeps Prometheus from scraping every replica of the API, the masters and the
    workers, and RabbitMQ, in the compose stack."""
    problems = []
    jobs = {scrape["job_name"]: scrape for scrape in config["scrape_configs"]}
    for name, port in METRICS_PORTS.items():
        scrape = jobs.get(f"jobrunner-{name}", {})
        # Docker's DNS answers the service name with one A record per replica (--scale).
        wanted = [{"names": [name], "type": "A", "port": port}]
        if scrape.get("dns_sd_configs") != wanted or "static_configs" in scrape:
            problems.append(f"jobrunner-{name}: not {wanted}")
        if scrape.get("metrics_path", "/metrics") != "/metrics":
            problems.append(f"jobrunner-{name}: metrics_path")
        if name not in platform or "container_name" in platform[name]:
            problems.append(f"{name}: not a scalable compose service")
    plugins = (ROOT / "infra/rabbitmq/enabled_plugins").read_text()
    for job in ("rabbitmq", "rabbitmq-queues"):
        targets = [t for c in jobs.get(job, {}).get("static_configs", []) for t in c["targets"]]
        if targets != ["rabbitmq:15692"] or "rabbitmq" not in platform:
            problems.append(f"{job}: {targets}")
    if "rabbitmq_prometheus" not in plugins:
        problems.append("RabbitMQ serves no metrics: rabbitmq_prometheus is not enabled")
    return problems


def test_prometheus_scrapes_every_replica_where_the_compose_services_serve_metrics() -> None:
    assert scrape_problems(prometheus_config(), PLATFORM) == []


def test_the_scrape_check_catches_a_target_on_the_wrong_port() -> None:
    # Given the worker job as it was before the workers served WORKER_HEALTH_PORT on 8081
    config = prometheus_config()
    (worker,) = [s for s in config["scrape_configs"] if s["job_name"] == "jobrunner-worker"]
    worker["dns_sd_configs"][0]["port"] = 9100
    # Then the check that passes on the real file fails
    assert scrape_problems(config, PLATFORM) == ["jobrunner-worker: not " + str(
        [{"names": ["worker"], "type": "A", "port": METRICS_PORTS["worker"]}])]


def test_the_monitoring_profile_runs_pinned_official_images_on_their_ports() -> None:
    prometheus, grafana = PLATFORM["prometheus"], PLATFORM["grafana"]
    assert prometheus["profiles"] == grafana["profiles"] == ["monitoring"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", prometheus["image"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", grafana["image"])
    # Grafana on 3001 (the dashboard has 3000); Prometheus, which has no login, on this host only.
    assert grafana["ports"] == ["${GRAFANA_PORT:-3001}:3000"]
    assert prometheus["ports"] == ["127.0.0.1:${PROMETHEUS_PORT:-9090}:9090"]
    assert "127.0.0.1:3000/" in " ".join(grafana["healthcheck"]["test"])
    assert "127.0.0.1:9090/" in " ".join(prometheus["healthcheck"]["test"])
    for service in (prometheus, grafana):
        assert "build" not in service and "container_name" not in service


def test_prometheus_reads_the_config_and_rules_of_infra_monitoring() -> None:
    prometheus = PLATFORM["prometheus"]
    mounted = mounts(prometheus)
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in prometheus["command"])
    assert mounted[flags["config.file"]] == "./infra/monitoring/prometheus.yml"
    for rules in prometheus_config()["rule_files"]:
        assert mounted[rules] == "./infra/monitoring/alerts.yml"
    # Its data in a named volume, kept across restarts and upgrades.
    data = [v for v in prometheus["volumes"] if v.endswith(":" + flags["storage.tsdb.path"])]
    assert data and not data[0].startswith(("./", "/"))


def test_grafana_is_provisioned_with_the_data_source_and_the_dashboard() -> None:
    grafana = PLATFORM["grafana"]
    mounted = mounts(grafana)
    provisioning = "./infra/monitoring/grafana/provisioning"
    for kind in ("datasources", "dashboards"):
        assert mounted[f"/etc/grafana/provisioning/{kind}"] == f"{provisioning}/{kind}"
    provider = yaml.safe_load((MONITORING / "grafana/provisioning/dashboards/jobrunner.yml")
                              .read_text())["providers"][0]
    assert mounted[provider["options"]["path"]] == "./infra/monitoring/grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    home_in_repo = ROOT / mounted[str(Path(home).parent)] / Path(home).name
    assert home_in_repo.is_file()
    # The data source is the profile's Prometheus, by its service name and container port ...
    (source,) = yaml.safe_load((MONITORING / "grafana/provisioning/datasources/prometheus.yml")
                               .read_text())["datasources"]
    container_port = PLATFORM["prometheus"]["ports"][0].rsplit(":", 1)[1]
    assert source["url"] == f"http://prometheus:{container_port}"
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    # ... and every panel of the dashboard asks that data source.
    dashboard = json.loads(home_in_repo.read_text())
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {source["uid"]}
