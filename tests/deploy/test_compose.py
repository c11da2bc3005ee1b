"""The docker compose stack and its images, checked without a Docker engine.

What a Docker engine would catch first is checked here from the files: the compose files
against the compose specification's JSON schema (vendored in compose-spec.json), the
Dockerfiles they name (present, hadolint-clean, non-root, entry points that are console
scripts of the packages the image installs), the variables the env examples must name, and the
RabbitMQ definitions against the topology the services declare themselves. At scale: api,
master and worker can take `--scale`, the frontend's nginx spreads the API and the masters
(frontend/nginx.conf, parsed here), and the cluster override (docker-compose.cluster.yaml,
merged into the platform file as Compose merges it) runs three RabbitMQ nodes and three
MongoDB members that the services' URLs name.
"""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.files import (
    CLUSTER_FILE,
    NGINX_CONF,
    PLATFORM_FILE,
    ROOT,
    WORKER_FILE,
    block,
    host_port,
    load,
    merged,
    nginx,
    seconds,
    server_on,
    services,
)

HERE = Path(__file__).resolve().parent
# The files that run alone, with the env example of their host.
COMPOSE_FILES = {PLATFORM_FILE: ROOT / ".env.example", WORKER_FILE: ROOT / ".env.worker.example"}
# ... and the override that goes on top of the platform file, read with the platform's .env.
EVERY_COMPOSE_FILE = {**COMPOSE_FILES, CLUSTER_FILE: ROOT / ".env.example"}
PLATFORM_SERVICES = {"rabbitmq", "mongodb", "api", "master", "worker", "frontend"}
# Started only with `--profile monitoring` (tests/deploy/test_monitoring.py checks them).
MONITORING_SERVICES = {"prometheus", "grafana"}
# Python images: the packages each installs (pyproject folders) decide its console scripts.
IMAGE_PACKAGES = {
    "services/api/Dockerfile": ["shared", "services/api"],
    "services/master/Dockerfile": ["shared", "services/master"],
    "services/worker/Dockerfile": ["shared", "services/worker"],
}
# ... and beside them each copies VERSION and its own lock of requirements/ (tests/test_lock.py).
IMAGE_LOCKS = {dockerfile: f"requirements/{dockerfile.split('/')[1]}.lock"
               for dockerfile in IMAGE_PACKAGES}
# `${NAME}`, `${NAME:-default}`, `${NAME:?message}` ... as Compose interpolates them (not
# `$${...}`, which Compose leaves to the container's shell).
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}")


def env_keys(path: Path) -> set[str]:
    keys = set()
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keys.add(line.split("=", 1)[0].strip())
    return keys


def dockerfile_of(service: dict[str, Any], compose_file: Path) -> Path:
    build = service["build"]
    context = compose_file.parent / (build if isinstance(build, str) else build.get("context", "."))
    name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    return (context / name).resolve()


def final_stage(dockerfile: Path) -> list[str]:
    """The instructions of the last stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    start = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return lines[start:]


def built_services() -> list[tuple[Path, str, dict[str, Any]]]:
    return [
        (path, name, service)
        for path in COMPOSE_FILES
        for name, service in services(path).items()
        if "build" in service
    ]


def cluster_services() -> dict[str, dict[str, Any]]:
    return merged(PLATFORM_FILE, CLUSTER_FILE)["services"]


# --- the compose files ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_schema() -> jsonschema.Draft7Validator:
    schema = json.loads((HERE / "compose-spec.json").read_text())
    return jsonschema.Draft7Validator(schema)


@pytest.mark.parametrize("path", list(EVERY_COMPOSE_FILE), ids=lambda p: p.name)
def test_compose_file_follows_the_compose_specification(
    path: Path, compose_schema: jsonschema.Draft7Validator
) -> None:
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in compose_schema.iter_errors(load(path))
    ]
    assert errors == []


def test_the_schema_check_rejects_a_misspelt_key(
    compose_schema: jsonschema.Draft7Validator,
) -> None:
    # Given the platform file with a typo in one service
    model = load(PLATFORM_FILE)
    model["services"]["api"]["healtcheck"] = model["services"]["api"].pop("healthcheck")

    # Then the validation that passes on the real file fails on this one
    assert list(compose_schema.iter_errors(model))


def test_the_platform_file_runs_the_whole_platform_by_default() -> None:
    platform = services(PLATFORM_FILE)
    # No profiles: `docker compose up -d` starts every one of them ...
    assert {n for n, s in platform.items() if "profiles" not in s} == PLATFORM_SERVICES
    # ... and only those: the rest waits for `--profile monitoring`.
    profiled = {n: s["profiles"] for n, s in platform.items() if "profiles" in s}
    assert profiled == {name: ["monitoring"] for name in MONITORING_SERVICES}


def test_the_worker_host_file_runs_only_workers_in_the_worker_profile() -> None:
    workers = services(WORKER_FILE)
    assert list(workers) == ["worker"]
    assert workers["worker"]["profiles"] == ["worker"]
    assert "depends_on" not in workers["worker"]  # nothing of the platform runs on that host
    settings = env_values(ROOT / ".env.worker.example")
    assert settings["COMPOSE_FILE"] == WORKER_FILE.name
    assert settings["COMPOSE_PROFILES"] == "worker"


def env_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.mark.parametrize("path", list(COMPOSE_FILES), ids=lambda p: p.name)
def test_workers_can_be_scaled(path: Path) -> None:
    worker = services(path)["worker"]
    # `--scale worker=N` fails on a fixed container name or a published host port.
    assert "container_name" not in worker and "ports" not in worker
    assert "WORKER_NAME" not in worker.get("environment", {})  # each replica: its host name
    assert all("container_name" not in s for s in services(path).values())


@pytest.mark.parametrize("path", list(COMPOSE_FILES), ids=lambda p: p.name)
def test_workers_answer_their_healthcheck_themselves(path: Path) -> None:
    from jobrunner_worker.settings import WorkerSettings

    worker = services(path)["worker"]
    # The worker's own /healthz (connected to a master, or not for long), not a master's.
    assert worker["healthcheck"]["test"] == ["CMD", "jobrunner-worker", "--healthcheck"]
    port = worker["environment"]["WORKER_HEALTH_PORT"]
    assert re.fullmatch(r"8081|\$\{WORKER_HEALTH_PORT:-8081\}", port), port
    assert "worker_health_port" in WorkerSettings.model_fields
    check = worker["healthcheck"]
    assert (check["interval"], check["timeout"], check["retries"]) == ("15s", "10s", 3)
    # Longer than the worker's grace without a master, so that a slow first connection is not
    # counted against it.
    grace = WorkerSettings.model_fields["worker_health_grace_seconds"].default
    assert seconds(check["start_period"]) >= grace


@pytest.mark.parametrize("path", list(COMPOSE_FILES), ids=lambda p: p.name)
def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(path: Path) -> None:
    for name, service in services(path).items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"


def test_http_healthchecks_ask_the_port_the_service_listens_on() -> None:
    platform = services(PLATFORM_FILE)
    conf = nginx(NGINX_CONF.read_text())
    for name, upstream in (("api", "jobrunner_api"), ("master", "jobrunner_masters")):
        port = platform[name]["environment"]["PORT"]
        # Each replica asks itself, not the service name (which is any replica).
        assert f"127.0.0.1:{port}/readyz" in " ".join(platform[name]["healthcheck"]["test"])
        # ... and nginx, which stands in front of them, sends requests to that port.
        assert [d.args[0] for d in block(conf, "upstream", upstream).all("server")] == [
            f"{name}:{port}"
        ]


def test_data_lives_in_declared_named_volumes() -> None:
    model = load(PLATFORM_FILE)
    declared = set(model["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in model["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == declared == {"rabbitmq-data", "mongodb-data", "mongodb-config",
                                "prometheus-data", "grafana-data"}


@pytest.mark.parametrize("path", [PLATFORM_FILE, CLUSTER_FILE], ids=lambda p: p.name)
def test_mounted_files_exist(path: Path) -> None:
    mounts = [v for s in services(path).values() for v in s.get("volumes", [])]
    assert mounts
    for volume in mounts:
        if volume.startswith("./"):  # a file, or a folder of them (Grafana's provisioning)
            source = ROOT / volume.split(":", 1)[0]
            assert source.is_file() or (source.is_dir() and any(source.iterdir())), volume


def test_mongodb_runs_as_a_replica_set_the_services_connect_to() -> None:
    model = load(PLATFORM_FILE)
    mongodb = model["services"]["mongodb"]
    assert mongodb["command"][:2] == ["--replSet", "rs0"]
    assert "rs.initiate" in mongodb["healthcheck"]["test"][1]
    assert "replicaSet=rs0" in model["x-platform-env"]["MONGODB_URL"]


# --- variables and env examples ---------------------------------------------------------------


@pytest.mark.parametrize("path", list(EVERY_COMPOSE_FILE), ids=lambda p: p.name)
def test_env_example_names_every_variable_the_compose_file_reads(path: Path) -> None:
    text = json.dumps(load(path))  # the values only: the comments mention `${VAR:?}` too
    required = {
        m.group(1)
        for m in VARIABLE.finditer(text)
        if (m.group(2) or "").lstrip(":").startswith("?")
    }
    every = {m.group(1) for m in VARIABLE.finditer(text)}
    documented = env_keys(EVERY_COMPOSE_FILE[path])
    assert required, "the secrets must be required with ${VAR:?}"
    assert required - documented == set()
    assert every - documented == set()


def test_required_platform_secrets_are_required() -> None:
    text = PLATFORM_FILE.read_text()
    for name in (
        "SECRET_KEY",
        "ENCRYPTION_KEY",
        "ADMIN_PASSWORD",
        "RABBITMQ_PASSWORD",
        "MONGODB_PASSWORD",
    ):
        assert re.search(r"\$\{" + name + r":\?", text), name
    # ... and the examples hold no value for them: a copied .env must not run with a known one.
    values = env_values(ROOT / ".env.example")
    assert all(values[name] == "" for name in ("SECRET_KEY", "ENCRYPTION_KEY", "ADMIN_PASSWORD"))


# --- Dockerfiles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name", "service"),
    built_services(),
    ids=[f"{p.name}:{n}" for p, n, _ in built_services()],
)
def test_every_dockerfile_named_in_compose_exists(
    path: Path, name: str, service: dict[str, Any]
) -> None:
    assert dockerfile_of(service, path).is_file(), name


def all_dockerfiles() -> list[Path]:
    return sorted({dockerfile_of(service, path) for path, _, service in built_services()})


def hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    assert found, "hadolint is missing: `make install` installs it (requirements/dev.in)"
    return found


@pytest.mark.parametrize("dockerfile", all_dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(dockerfile)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\n")
    result = subprocess.run(
        [hadolint(), "--no-color", str(bad)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "DL3007" in result.stdout


@pytest.mark.parametrize("dockerfile", all_dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_images_are_multi_stage_pinned_and_not_root(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert len(bases) >= 2, "multi-stage"
    for base in bases:
        assert re.search(r":\d+\.\d+\.\d+", base), f"{base}: pin an exact version tag"
    last = final_stage(dockerfile)
    users = [line.split()[1] for line in last if line.upper().startswith("USER ")]
    if users:
        assert users[-1].split(":")[0] not in ("root", "0")
    else:  # an image that is unprivileged by itself
        assert "unprivileged" in last[0]


def entrypoint_of(dockerfile: Path) -> list[str]:
    for line in reversed(final_stage(dockerfile)):
        keyword, _, rest = line.partition(" ")
        if keyword.upper() in ("ENTRYPOINT", "CMD"):
            return json.loads(rest)
    raise AssertionError(f"{dockerfile} has no ENTRYPOINT or CMD")


def console_scripts(package_dir: str) -> set[str]:
    project = tomllib.loads((ROOT / package_dir / "pyproject.toml").read_text())["project"]
    return set(project.get("scripts", {}))


@pytest.mark.parametrize("relative", list(IMAGE_PACKAGES))
def test_image_entrypoint_is_a_console_script_it_installs(relative: str) -> None:
    dockerfile = ROOT / relative
    scripts = set().union(*(console_scripts(d) for d in IMAGE_PACKAGES[relative]))
    assert entrypoint_of(dockerfile)[0] in scripts
    # What the image copies in is exactly those packages, VERSION and its lock.
    copied = re.findall(r"^COPY (?!--from)(\S+)", dockerfile.read_text(), re.MULTILINE)
    assert sorted(copied) == sorted([*IMAGE_PACKAGES[relative], "VERSION", IMAGE_LOCKS[relative]])


@pytest.mark.parametrize("relative", list(IMAGE_PACKAGES))
def test_images_install_their_lock_with_hashes_then_the_packages_alone(relative: str) -> None:
    text = re.sub(r"\\\n\s*", " ", (ROOT / relative).read_text())
    installs = [line for line in text.splitlines() if re.match(r"RUN .* install ", line)]
    lock = f"/src/{IMAGE_LOCKS[relative]}"
    assert len(installs) == 2, installs
    # Every dependency from the lock, each checked against its hash ...
    assert "--require-hashes" in installs[0].split() and f"-r {lock}" in installs[0]
    # ... then the packages of the checkout, which bring no dependency of their own.
    assert "--no-deps" in installs[1].split()
    assert [w for w in installs[1].split() if w.startswith("/src/")] == [
        f"/src/{package}" for package in IMAGE_PACKAGES[relative]
    ]


def test_compose_overrides_no_entrypoint_of_the_python_images() -> None:
    for path, name, service in built_services():
        if str(dockerfile_of(service, path).relative_to(ROOT)) in IMAGE_PACKAGES:
            assert "entrypoint" not in service and "command" not in service, name


def test_the_worker_image_holds_no_platform_package() -> None:
    text = (ROOT / "services/worker/Dockerfile").read_text()
    assert "[broker]" not in text and "services/api" not in text and "services/master" not in text


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in ("**/.venv", "**/node_modules", ".data", ".env*", "**/.git"):
        assert pattern in ignored


def test_the_dashboard_proxy_streams_server_sent_events() -> None:
    conf = NGINX_CONF.read_text()
    api = re.search(r"location /api/ \{(.*?)\n    \}", conf, re.DOTALL)
    assert api, "nginx.conf proxies /api/"
    block = api.group(1)
    for directive in (
        "proxy_buffering off;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
    ):
        assert directive in block
    timeout = re.search(r"proxy_read_timeout (\d+)([smh]?);", block)
    assert (
        timeout
        and int(timeout.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[timeout.group(2)] >= 600
    )
    assert "proxy_pass http://jobrunner_api;" in block
    assert re.search(r"upstream jobrunner_api \{[^}]*server api:8000 resolve;", conf)


# --- RabbitMQ definitions -------------------------------------------------------------------------


def definitions() -> dict[str, Any]:
    return json.loads((ROOT / "infra/rabbitmq/definitions.json").read_text())


def test_definitions_are_generated_from_the_shared_module() -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_definitions", ROOT / "infra/rabbitmq/generate_definitions.py"
    )
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (ROOT / "infra/rabbitmq/definitions.json").read_text() == generator.render(), (
        "infra/rabbitmq/definitions.json is stale: "
        "run .venv/bin/python infra/rabbitmq/generate_definitions.py"
    )


def test_definitions_declare_exactly_what_the_services_declare() -> None:
    # Why: RabbitMQ refuses (PRECONDITION_FAILED) a declaration whose arguments differ from an
    # existing queue's, so the definitions must match the services' own objects to the letter.
    from jobrunner_shared import amqp, names

    defs = definitions()
    exchanges = {e["name"]: e for e in defs["exchanges"]}
    for exchange in (amqp.JOBS, amqp.LOGS, amqp.HEARTBEATS, amqp.CONTROL, amqp.CHANGES,
                     amqp.DEAD_LETTERS, amqp.SETTLE):
        got = exchanges.pop(exchange.name)
        assert got["type"] == exchange.type.value and got["durable"] is True
        assert got["auto_delete"] is False and got["internal"] is False and got["arguments"] == {}
    assert exchanges == {}

    queues = {q["name"]: q for q in defs["queues"]}
    shared_queues = (
        amqp.DEAD_LETTER_QUEUE,
        amqp.REJECTED_QUEUE,
        amqp.SUBMIT_QUEUE,
        amqp.JOB_EVENTS_QUEUE,
        amqp.LOGS_QUEUE,
        amqp.HEARTBEATS_QUEUE,
        amqp.SETTLE_QUEUE,
    )
    for queue in shared_queues:
        got = queues.pop(queue.name)
        assert got["durable"] is queue.durable is True and got["auto_delete"] is False
        assert got["arguments"] == (queue.arguments or {})
    assert queues == {}  # per-tenant dispatch queues are the services' own business
    assert not any(q["name"].startswith(names.DISPATCH_QUEUE_PREFIX) for q in defs["queues"])

    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in defs["bindings"]}
    assert bindings == {
        (names.DEAD_LETTER_EXCHANGE, names.DEAD_LETTER_QUEUE, names.DEAD_LETTER_QUEUE),
        (names.JOBS_EXCHANGE, names.SUBMIT_QUEUE, names.SUBMIT_KEY),
        (names.JOBS_EXCHANGE, names.JOB_EVENTS_QUEUE, names.JOB_EVENTS_PATTERN),
        (names.LOGS_EXCHANGE, names.LOGS_QUEUE, names.LOGS_PATTERN),
        (names.HEARTBEATS_EXCHANGE, names.HEARTBEATS_QUEUE, names.HEARTBEATS_PATTERN),
        (names.SETTLE_EXCHANGE, names.SETTLE_QUEUE, names.SETTLE_QUEUE),
    }


def test_the_dead_letter_policy_spares_the_dead_letter_queues() -> None:
    from jobrunner_shared import names

    (policy,) = definitions()["policies"]
    # Erlang's `re` is PCRE, like Python's for this pattern.
    pattern = re.compile(policy["pattern"])
    assert pattern.match(names.dispatch_queue("t1", ["gpu"]))
    assert pattern.match(names.MASTER_CONTROL_QUEUE_PREFIX + ".abc")
    assert not pattern.match(names.DEAD_LETTER_QUEUE)  # dead-lettering into itself would loop
    assert not pattern.match(names.REJECTED_QUEUE)
    assert policy["definition"] == {"dead-letter-exchange": names.DEAD_LETTER_EXCHANGE}


# --- docs -------------------------------------------------------------------------------------


def test_operations_doc_lists_every_setting_of_every_service() -> None:
    from jobrunner_api.settings import Settings as ApiSettings
    from jobrunner_master.settings import Settings as MasterSettings
    from jobrunner_worker.settings import WorkerSettings

    documented = set(
        re.findall(r"^\| `([A-Z_]+)` \|", (ROOT / "docs/operations.md").read_text(), re.MULTILINE)
    )
    for settings in (ApiSettings, MasterSettings, WorkerSettings):
        missing = {name.upper() for name in settings.model_fields} - documented
        assert missing == set(), (
            f"{settings.__module__}: add {sorted(missing)} to docs/operations.md"
        )


# --- at scale: replicas behind the frontend's nginx ---------------------------------------------

SCALED = ("api", "master", "worker")


@pytest.mark.parametrize(
    "model",
    [load(PLATFORM_FILE), merged(PLATFORM_FILE, CLUSTER_FILE)],
    ids=["platform", "platform+cluster"],
)
def test_api_master_and_worker_can_be_scaled(model: dict[str, Any]) -> None:
    # `--scale NAME=N` fails on a fixed container name or a published host port, and N
    # replicas with one host name would all claim the same identity.
    for name in SCALED:
        service = model["services"][name]
        assert "container_name" not in service, name
        assert "ports" not in service, name
        assert "hostname" not in service, name
    published = [p for s in model["services"].values() for p in s.get("ports", [])]
    assert len(published) == len(set(published))


def test_the_frontend_publishes_the_api_and_the_masters_for_their_replicas() -> None:
    platform = services(PLATFORM_FILE)
    conf = nginx(NGINX_CONF.read_text())
    frontend = platform["frontend"]
    listens = dict(host_port(p) for p in frontend["ports"])
    assert set(listens) == {"DASHBOARD_PORT", "API_PORT", "MASTER_PORT"}
    for variable, port in listens.items():
        server_on(conf, port)  # nginx listens where the published port leads
    # The API port passes everything (REST, SSE, /docs, /asyncapi) to the API replicas.
    api_root = block(server_on(conf, listens["API_PORT"]), "location", "/")
    assert api_root.value("proxy_pass") == "http://jobrunner_api"
    assert api_root.value("proxy_buffering") == "off"
    assert seconds(api_root.value("proxy_read_timeout")) >= 600
    # The compose workers reach the masters through nginx, which starts after them.
    worker = platform["worker"]
    assert worker["environment"]["MASTER_URL"] == f"http://frontend:{listens['MASTER_PORT']}"
    assert worker["depends_on"] == {"frontend": {"condition": "service_healthy"}}
    assert set(frontend["depends_on"]) == {"api", "master"}


def test_nginx_finds_every_replica_again_and_spreads_the_api_round_robin() -> None:
    conf = nginx(NGINX_CONF.read_text())
    # Docker's DNS, asked again every few seconds: a replica that comes or goes is seen.
    resolver = conf.one("resolver")
    assert resolver.args[0] == "127.0.0.11"
    (valid,) = [a for a in resolver.args if a.startswith("valid=")]
    assert seconds(valid.removeprefix("valid=")) <= 30
    for name in ("jobrunner_api", "jobrunner_masters"):
        upstream = block(conf, "upstream", name)
        assert upstream.one("zone")  # `resolve` needs the group in shared memory
        assert all(s.args[1:] == ["resolve"] for s in upstream.all("server"))
    # No balancing method in the API's group: nginx's default, round robin.
    api = block(conf, "upstream", "jobrunner_api")
    assert not {"hash", "ip_hash", "least_conn", "random"} & {d.name for d in api.children or []}
    # `resolve` in an upstream's server is in open-source nginx from 1.27.3 on.
    dockerfile = (ROOT / "frontend/Dockerfile").read_text()
    base = re.findall(r"^FROM\s+\S+:(\d+)\.(\d+)\.(\d+)", dockerfile, re.MULTILINE)[-1]
    assert tuple(map(int, base)) >= (1, 27, 3)


def test_nginx_proxies_the_masters_socket_io_with_websocket_upgrade() -> None:
    from jobrunner_master.settings import Settings as MasterSettings

    conf = nginx(NGINX_CONF.read_text())
    listens = dict(host_port(p) for p in services(PLATFORM_FILE)["frontend"]["ports"])
    masters = server_on(conf, listens["MASTER_PORT"])
    socket_io = block(masters, "location", "/socket.io/")
    assert socket_io.value("proxy_pass") == "http://jobrunner_masters"
    assert socket_io.value("proxy_http_version") == "1.1"
    headers = {d.args[0]: d.args[1] for d in socket_io.all("proxy_set_header")}
    assert headers["Upgrade"] == "$http_upgrade"
    assert headers["Connection"] == "$connection_upgrade"
    upgrade = block(conf, "map", "$http_upgrade", "$connection_upgrade")
    assert upgrade.value("default") == "upgrade"
    # Engine.IO pings every 25 s: a live connection is never quieter than the read timeout.
    assert seconds(socket_io.value("proxy_read_timeout")) >= 60
    assert socket_io.value("proxy_buffering") == "off"  # long-polling answers leave at once
    # A polling POST may carry a message as large as the master accepts.
    limit = socket_io.value("client_max_body_size")
    assert int(limit.removesuffix("m")) * 2**20 >= MasterSettings.model_fields[
        "max_message_bytes"
    ].default
    # The worker's healthcheck asks MASTER_URL/healthz: a master answers it, not nginx.
    assert block(masters, "location", "=", "/healthz").value("proxy_pass") == (
        "http://jobrunner_masters"
    )


def test_a_worker_stays_on_one_master_through_the_socket_io_handshake() -> None:
    # Why sticky: the worker's Socket.IO client opens with long-polling and upgrades to a
    # WebSocket, each request naming a session only the master that opened it knows.
    conf = nginx(NGINX_CONF.read_text())
    masters = block(conf, "upstream", "jobrunner_masters")
    # By the whole client address: ip_hash takes only three octets (one master for a whole
    # Docker network), and `consistent` hashes server names, the same for every replica of
    # `master`, so it falls back to round robin (seen on nginx 1.27.3).
    assert masters.one("hash").args == ["$remote_addr"]
    assert not masters.all("ip_hash")


# --- the cluster override: 3 RabbitMQ nodes, 3 MongoDB members -------------------------------


def rabbitmq_nodes(model: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: s for name, s in model.items()
        if s.get("image", "").startswith("rabbitmq:") and s.get("command") == ["rabbitmq-server"]
    }


def mongodb_members(model: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in model.items() if "--replSet" in (s.get("command") or [])}


def one_shots(model: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, s in model.items() if s.get("restart") == "no"}


def test_the_cluster_file_is_an_override_of_the_platform_file() -> None:
    model = load(CLUSTER_FILE)
    assert "name" not in model  # the project stays the platform's (its volumes, its network)
    # Every service it changes but does not add is the platform's; it builds nothing.
    added = {"rabbitmq-2", "rabbitmq-3", "rabbitmq-definitions", "mongodb-2", "mongodb-3",
             "mongodb-rs-init"}
    assert set(model["services"]) - added <= PLATFORM_SERVICES
    assert all("build" not in s for s in model["services"].values())


def test_three_rabbitmq_nodes_share_one_cookie_and_discover_each_other() -> None:
    model = cluster_services()
    nodes = rabbitmq_nodes(model)
    hosts = {s["hostname"] for s in nodes.values()}
    assert len(nodes) == len(hosts) == 3 and "rabbitmq" in nodes
    platform_image = services(PLATFORM_FILE)["rabbitmq"]["image"]
    cookies = {s["environment"]["ERLANG_COOKIE"] for s in nodes.values()}
    assert len(cookies) == 1 and "${RABBITMQ_ERLANG_COOKIE:?" in cookies.pop()
    for name, node in nodes.items():
        assert node["image"] == platform_image, name
        assert "/var/lib/rabbitmq/.erlang.cookie" in node["entrypoint"][2], name
        mounts = {v.split(":")[1]: v.split(":")[0] for v in node["volumes"]}
        assert mounts["/etc/rabbitmq/conf.d/40-cluster.conf"] == "./infra/rabbitmq/cluster.conf"
        assert mounts["/etc/rabbitmq/conf.d/30-jobrunner.conf"] == "./infra/rabbitmq/rabbitmq.conf"
        assert mounts["/etc/rabbitmq/enabled_plugins"] == "./infra/rabbitmq/enabled_plugins"
    data = [next(v.split(":")[0] for v in n["volumes"] if v.endswith(":/var/lib/rabbitmq"))
            for n in nodes.values()]
    assert len(set(data)) == 3, "each node keeps its own data"

    settings = dict(
        line.split("=", 1) for line in
        map(str.strip, (ROOT / "infra/rabbitmq/cluster.conf").read_text().splitlines())
        if line and not line.startswith("#")
    )
    settings = {k.strip(): v.strip() for k, v in settings.items()}
    assert settings["cluster_formation.peer_discovery_backend"] == "classic_config"
    prefix = "cluster_formation.classic_config.nodes."
    listed = {v for k, v in settings.items() if k.startswith(prefix)}
    assert listed == {f"rabbit@{host}" for host in hosts}


def test_the_definitions_are_imported_once_into_the_whole_cluster() -> None:
    model = cluster_services()
    nodes = rabbitmq_nodes(model)

    def mentions(service: dict[str, Any], word: str) -> bool:
        return word in json.dumps(
            [service.get("entrypoint"), service.get("command"), service.get("healthcheck")]
        )

    importers = [name for name, s in model.items() if mentions(s, "import_definitions")]
    assert importers == ["rabbitmq-definitions"]  # no node imports them at its healthcheck
    importer = model["rabbitmq-definitions"]
    assert importer["restart"] == "no"
    assert importer["depends_on"] == {n: {"condition": "service_healthy"} for n in nodes}
    expected = {f"rabbit@{s['hostname']}" for s in nodes.values()}
    assert set(importer["environment"]["RABBITMQ_NODES"].split(",")) == expected
    assert "await_online_nodes" in importer["entrypoint"][2]  # all of them clustered first
    cookie = nodes["rabbitmq"]["environment"]["ERLANG_COOKIE"]
    assert importer["environment"]["ERLANG_COOKIE"] == cookie
    assert "./infra/rabbitmq/definitions.json:/etc/rabbitmq/jobrunner/definitions.json:ro" in (
        importer["volumes"]
    )


def test_three_mongodb_members_form_one_replica_set_with_one_key() -> None:
    model = cluster_services()
    members = mongodb_members(model)
    assert len(members) == 3 and "mongodb" in members
    for name, member in members.items():
        command = member["command"]
        assert command[command.index("--replSet") + 1] == "rs0", name
        assert "--keyFile" in command, name
        assert member["image"] == services(PLATFORM_FILE)["mongodb"]["image"], name
        assert "$$MONGODB_REPLICA_KEY" in member["entrypoint"][2], name
    keys = {m["environment"]["MONGODB_REPLICA_KEY"] for m in members.values()}
    assert len(keys) == 1 and "${MONGODB_REPLICA_KEY:?" in keys.pop()
    # Only the first member creates the root user: a member with data cannot be initiated into
    # a set; the others copy it from the primary.
    with_users = [n for n, m in members.items() if "MONGO_INITDB_ROOT_USERNAME" in m["environment"]]
    assert with_users == ["mongodb"]
    data = {next(v for v in m["volumes"] if v.endswith(":/data/db")) for m in members.values()}
    assert len(data) == 3

    init = model["mongodb-rs-init"]
    assert init["restart"] == "no"
    assert init["depends_on"] == {n: {"condition": "service_healthy"} for n in members}
    listed = init["environment"]["RS_MEMBERS"].split(",")
    assert listed[0] == "mongodb:27017"  # the one it logs in to
    hosts = {m.get("hostname", n) for n, m in members.items()}
    assert set(listed) == {f"{h}:27017" for h in hosts}
    assert init["environment"]["RS_NAME"] == "rs0"
    assert "./infra/mongodb/rs-init.js:/jobrunner/rs-init.js:ro" in init["volumes"]


def test_the_services_name_every_node_and_member_and_wait_for_the_set_up() -> None:
    model = cluster_services()
    rabbit_hosts = {s["hostname"] for s in rabbitmq_nodes(model).values()}
    mongo_hosts = {f"{m.get('hostname', n)}:27017" for n, m in mongodb_members(model).items()}
    for name in ("api", "master"):
        env = model[name]["environment"]
        urls = env["RABBITMQ_URL"].split(",")
        nodes = [re.fullmatch(r"amqp://[^@]+@([^:/]+):5672/", u) for u in urls]
        assert all(nodes) and len(urls) == 3, urls
        assert {n.group(1) for n in nodes if n} == rabbit_hosts
        mongo = re.fullmatch(r"mongodb://[^@]+@([^/]+)/\?(.*)", env["MONGODB_URL"])
        assert mongo, env["MONGODB_URL"]
        assert set(mongo.group(1).split(",")) == mongo_hosts
        assert "replicaSet=rs0" in mongo.group(2).split("&")
        # The same user and password as the single node's URLs.
        platform_env = load(PLATFORM_FILE)["x-platform-env"]
        assert platform_env["MONGODB_URL"].split("@")[0] == env["MONGODB_URL"].split("@")[0]
        assert platform_env["RABBITMQ_URL"].split("@")[0] == urls[0].split("@")[0]
        assert model[name]["depends_on"]["rabbitmq-definitions"] == {
            "condition": "service_completed_successfully"
        }
        assert model[name]["depends_on"]["mongodb-rs-init"] == {
            "condition": "service_completed_successfully"
        }
    # Nothing else still points at the single node.
    for name, service in model.items():
        env = service.get("environment", {})
        for key in ("RABBITMQ_URL", "MONGODB_URL"):
            assert key not in env or name in ("api", "master"), name


def test_every_long_running_service_of_the_cluster_has_a_healthcheck() -> None:
    model = cluster_services()
    shots = one_shots(model)
    assert shots == {"rabbitmq-definitions", "mongodb-rs-init"}
    for name, service in model.items():
        if name not in shots:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if dependency in shots else "service_healthy"
            assert condition == {"condition": wanted}, f"{name} -> {dependency}"


def test_the_cluster_volumes_are_declared_and_each_node_has_its_own() -> None:
    model = merged(PLATFORM_FILE, CLUSTER_FILE)
    used = [
        volume.split(":", 1)[0]
        for service in model["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    ]
    assert len(used) == len(set(used))
    assert set(used) == set(model["volumes"])


def test_the_merge_here_is_the_one_compose_does() -> None:
    # Given the platform's rabbitmq service and the cluster's override of it
    model = cluster_services()["rabbitmq"]
    platform = services(PLATFORM_FILE)["rabbitmq"]
    # Then the override's healthcheck test replaces the platform's (which imports definitions)
    assert "import_definitions" in " ".join(platform["healthcheck"]["test"])
    assert "import_definitions" not in " ".join(model["healthcheck"]["test"])
    # ... while volumes add up by their path in the container and ports stay
    assert set(platform["volumes"]) < set(model["volumes"])
    assert model["ports"] == platform["ports"]
    assert model["environment"]["RABBITMQ_DEFAULT_USER"] == (
        platform["environment"]["RABBITMQ_DEFAULT_USER"]
    )
