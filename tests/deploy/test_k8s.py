"""infra/k8s, checked without a cluster: every manifest parses and is listed, the images and
ports are the ones the compose stack builds and serves, the probes ask what the services
serve, every secret compose requires of a service reaches it here too, and the master Service
keeps a worker's handshake on one master."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.deploy.files import PLATFORM_FILE, ROOT, block, load, nginx, seconds, services

K8S = ROOT / "infra/k8s"
SERVICES = ("api", "master", "worker", "frontend")


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def manifests() -> list[dict[str, Any]]:
    return [
        doc
        for name in kustomization()["resources"]
        for doc in yaml.safe_load_all((K8S / name).read_text())
        if doc
    ]


def find(kind: str, name: str) -> dict[str, Any]:
    (found,) = [m for m in manifests() if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def container(name: str) -> dict[str, Any]:
    (only,) = find("Deployment", name)["spec"]["template"]["spec"]["containers"]
    return only


def env(name: str) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(name)["env"]}


def test_every_manifest_parses_and_is_applied() -> None:
    listed = set(kustomization()["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    for doc in manifests():
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
    assert {m["metadata"]["name"] for m in manifests() if m["kind"] == "Deployment"} == set(
        SERVICES
    )


@pytest.mark.parametrize("name", SERVICES)
def test_the_images_are_the_ones_compose_builds(name: str) -> None:
    # compose tags ${JOBRUNNER_IMAGE_PREFIX:-jobrunner}/<name>:<tag>; kustomize sets the tag.
    compose_image = services(PLATFORM_FILE)[name]["image"]
    assert compose_image.startswith("${JOBRUNNER_IMAGE_PREFIX:-jobrunner}/" + name + ":")
    assert container(name)["image"] == f"jobrunner/{name}"
    assert f"jobrunner/{name}" in {i["name"] for i in kustomization()["images"]}


@pytest.mark.parametrize("name", ["api", "master"])
def test_api_and_master_listen_where_the_service_and_probes_point(name: str) -> None:
    port = int(services(PLATFORM_FILE)[name]["environment"]["PORT"])
    main = container(name)
    assert env(name)["PORT"] == str(port)
    (declared,) = main["ports"]
    assert declared["containerPort"] == port
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": declared["name"]}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": declared["name"]}
    service = find("Service", name)
    pods = find("Deployment", name)["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"] == pods
    (exposed,) = service["spec"]["ports"]
    assert exposed["targetPort"] == declared["name"] and exposed["port"] == port


@pytest.mark.parametrize("name", ["api", "master"])
def test_every_secret_compose_requires_of_a_service_reaches_it(name: str) -> None:
    compose_env = services(PLATFORM_FILE)[name]["environment"]
    required = {key for key, value in compose_env.items() if ":?" in str(value)}
    assert {"RABBITMQ_URL", "MONGODB_URL", "ENCRYPTION_KEY"} <= required
    given = env(name)
    for key in required:
        assert key in given, f"{name} lacks {key}"
        # A secret is read from a Secret, never written into the manifest.
        assert isinstance(given[key], dict) and "secretKeyRef" in given[key], key
    assert given["ENVIRONMENT"] == "production"  # placeholder secrets are refused


def test_the_master_service_keeps_a_worker_on_one_master() -> None:
    # The worker's Socket.IO handshake starts with long-polling: each of its requests must
    # reach the master that opened the session (docs/deployment.md).
    assert find("Service", "master")["spec"]["sessionAffinity"] == "ClientIP"
    assert "sessionAffinity" not in find("Service", "api")["spec"]  # the API needs none


def test_workers_dial_the_master_service_and_drain_on_stop() -> None:
    worker = find("Deployment", "worker")["spec"]["template"]["spec"]
    (exposed,) = find("Service", "master")["spec"]["ports"]
    assert env("worker")["MASTER_URL"] == f"http://master:{exposed['port']}"
    assert "secretKeyRef" in env("worker")["API_KEY"]
    assert "WORKER_NAME" not in env("worker")  # each pod is named after its host name
    assert "ports" not in container("worker")
    assert not [m for m in manifests() if m["kind"] == "Service"
                and m["spec"]["selector"].get("app.kubernetes.io/name") == "worker"]
    # A liveness probe asking the master would kill running jobs whenever the masters are away.
    assert "livenessProbe" not in container("worker")
    # Ready once connected, asked on the worker's own health port
    probe = container("worker")["readinessProbe"]["httpGet"]
    assert (probe["path"], str(probe["port"])) == ("/healthz", env("worker")["WORKER_HEALTH_PORT"])
    grace = services(PLATFORM_FILE)["worker"]["stop_grace_period"]
    default = re.search(r":-(\w+)\}", grace).group(1)  # type: ignore[union-attr]
    assert worker["terminationGracePeriodSeconds"] >= seconds(default)


@pytest.mark.parametrize("name", SERVICES)
def test_every_pod_runs_unprivileged_with_resource_requests(name: str) -> None:
    pod = find("Deployment", name)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    main = container(name)
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert main["resources"]["requests"]


def test_the_dashboard_config_proxies_the_api_service_with_sse_unbuffered() -> None:
    conf = nginx(find("ConfigMap", "frontend-nginx")["data"]["default.conf"])
    (server,) = conf.all("server")
    assert server.value("listen") == str(container("frontend")["ports"][0]["containerPort"])
    api = block(server, "location", "/api/")
    (exposed,) = find("Service", "api")["spec"]["ports"]
    assert api.value("proxy_pass") == f"http://api:{exposed['port']}"
    assert api.value("proxy_buffering") == "off"
    assert api.value("proxy_http_version") == "1.1"
    assert seconds(api.value("proxy_read_timeout")) >= 600
    mount = container("frontend")["volumeMounts"][0]
    assert mount["mountPath"] == "/etc/nginx/conf.d/default.conf"  # where the image has its own
    # The same app routes as the image's own config.
    image_conf = nginx((ROOT / "frontend/nginx.conf").read_text())
    image_server = [s for s in image_conf.all("server") if s.value("listen") == "8080"][0]
    locations = lambda s: {tuple(d.args) for d in s.all("location")}  # noqa: E731
    assert locations(server) == locations(image_server)
    assert load(PLATFORM_FILE)  # the compose file it mirrors parses
