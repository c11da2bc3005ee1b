"""The deployment files as data, for the checks of tests/deploy: the compose files (loaded, and
merged as `docker compose -f A -f B` merges them) and nginx configurations (parsed)."""

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_FILE = ROOT / "docker-compose.yaml"
WORKER_FILE = ROOT / "docker-compose.worker.yaml"
CLUSTER_FILE = ROOT / "docker-compose.cluster.yaml"
NGINX_CONF = ROOT / "frontend/nginx.conf"


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def services(path: Path) -> dict[str, dict[str, Any]]:
    return load(path)["services"]


def merged(*paths: Path) -> dict[str, Any]:
    """The compose files as `docker compose -f A -f B` merges them, for what these files use:
    mappings key by key, service volumes by their path in the container, ports appended, and
    any other sequence (command, entrypoint, healthcheck.test...) replaced by the later file."""

    def merge(base: Any, over: Any, where: tuple[str, ...]) -> Any:
        if isinstance(base, dict) and isinstance(over, dict):
            out = dict(base)
            for key, value in over.items():
                out[key] = merge(base[key], value, (*where, key)) if key in base else value
            return out
        if len(where) == 3 and where[0] == "services" and isinstance(base, list):
            if where[2] == "volumes":
                target = lambda volume: volume.split(":")[1]  # noqa: E731
                kept = [v for v in base if target(v) not in {target(o) for o in over}]
                return kept + list(over)
            if where[2] == "ports":
                return list(base) + list(over)
        return over

    model: dict[str, Any] = {}
    for path in paths:
        model = merge(model, load(path), ())
    return model


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
