"""requirements/*.lock are current: what `make install` (dev.lock) and each image
(api.lock, master.lock, worker.lock) install is exactly what the packages' pyprojects and
requirements/*.in ask for, every version pinned with hashes, the images on dev's versions.

A lock goes stale when a pyproject gains or changes a dependency, or a dependency of a pinned
package is missing: the checks below then fail until `make lock` runs. They read the pinned
packages' own requirements from their installed metadata, which is why .venv must come from
dev.lock (`make install` does that).
"""

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import ROOT

REQUIREMENTS = ROOT / "requirements"
IMAGES = ("api", "master", "worker")
LOCKS = ("dev", *IMAGES)
# The packages of this checkout: installed from it (--no-deps), never from the lock.
LOCAL = {
    "jobrunner-shared": "shared",
    "jobrunner-worker": "services/worker",
    "jobrunner-cli": "services/cli",
    "jobrunner-api": "services/api",
    "jobrunner-master": "services/master",
}
PLATFORM_ONLY = ("fastapi", "beanie", "faststream", "pymongo", "motor", "uvicorn",
                 "cryptography", "httpx", "typer")


class Pin:
    def __init__(self, line: str) -> None:
        requirement, *hashes = line.split(" --hash=")
        self.requirement = Requirement(requirement)
        (spec,) = self.requirement.specifier
        assert spec.operator == "==", line
        self.version = spec.version
        self.hashes = hashes

    def applies_here(self) -> bool:
        return self.requirement.marker is None or self.requirement.marker.evaluate()


@cache
def pins(lock: str) -> dict[str, Pin]:
    text = re.sub(r"\\\n\s*", " ", (REQUIREMENTS / f"{lock}.lock").read_text())
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pin = Pin(line.strip())
            found[canonicalize_name(pin.requirement.name)] = pin
    return found


def direct_requirements(lock: str) -> list[Requirement]:
    """What requirements/<lock>.in asks for, the local packages replaced by their own
    dependencies (with their extras), as pip would resolve them."""
    wanted: list[Requirement] = []
    for line in (REQUIREMENTS / f"{lock}.in").read_text().splitlines():
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if not line:
            continue
        if line.startswith("./"):
            folder, _, extras = line.removeprefix("./").partition("[")
            (name,) = [n for n, f in LOCAL.items() if f == folder]
            wanted.append(Requirement(f"{name}[{extras}" if extras else name))
        else:
            wanted.append(Requirement(line))
    return expand_local(wanted)


def expand_local(requirements: list[Requirement]) -> list[Requirement]:
    out: list[Requirement] = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in LOCAL:
            out.append(requirement)
            continue
        project = tomllib.loads((ROOT / LOCAL[name] / "pyproject.toml").read_text())["project"]
        deps = list(project.get("dependencies", []))
        for extra in requirement.extras:
            deps += project["optional-dependencies"][extra]
        out += expand_local([Requirement(d) for d in deps])
    return out


def needed(requirement: Requirement, extras: set[str]) -> bool:
    """Whether pip installs `requirement` here for a package installed with `extras`."""
    marker: Marker | None = requirement.marker
    return marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""})


def closure(lock: str, locked: dict[str, Pin]) -> dict[str, set[str]]:
    """Every package the inputs of `lock` need here, with the extras asked of it, each checked
    against its pin in `locked` on the way; read from the metadata of the installed, pinned
    versions."""
    reached: dict[str, set[str]] = {}
    todo = [(r, set()) for r in direct_requirements(lock)]
    while todo:
        requirement, parent_extras = todo.pop()
        if not needed(requirement, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"requirements/{lock}.lock lacks {requirement}: make lock"
        pin = locked[name]
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"requirements/{lock}.lock pins {name}=={pin.version}, outside {requirement}: "
            "make lock"
        )
        known = reached.get(name)
        if known is not None and requirement.extras <= known:
            continue
        reached[name] = (known or set()) | requirement.extras
        try:
            installed = distribution(name)
        except PackageNotFoundError:
            pytest.fail(f"{name} is not installed: make install")
        assert installed.version == pin.version, (
            f"{name} {installed.version} is installed, the lock pins {pin.version}: make install"
        )
        for line in installed.requires or []:
            todo.append((Requirement(line), reached[name]))
    return reached


@pytest.mark.parametrize("lock", LOCKS)
def test_the_lock_pins_every_package_its_inputs_need_and_no_other(lock: str) -> None:
    reached = closure(lock, pins(lock))
    unused = {n for n, pin in pins(lock).items() if n not in reached and pin.applies_here()}
    assert unused == set(), f"requirements/{lock}.lock pins what nothing needs: make lock"
    assert not set(pins(lock)) & set(LOCAL), "the checkout's packages are installed from it"


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_is_exact_and_hashed(lock: str) -> None:
    # `pip install --require-hashes` refuses a lock with one requirement without a hash.
    text = (REQUIREMENTS / f"{lock}.lock").read_text()
    assert "#    make lock" in text.splitlines()[1], "made by `make lock` (scripts/lock.sh)"
    for name, pin in pins(lock).items():
        assert pin.hashes and all(h.startswith("sha256:") for h in pin.hashes), name


def test_a_stale_lock_is_caught() -> None:
    # Given the worker's lock without a dependency of the worker, or of one of its dependencies
    for missing in ("python-socketio", "bidict"):
        locked = {n: pin for n, pin in pins("worker").items() if n != missing}
        # Then the check that passes on the real lock fails
        with pytest.raises(AssertionError, match=f"lacks {missing}"):
            closure("worker", locked)
    # ... and so it does with a pin the pyproject no longer allows (pydantic-settings>=2.3)
    old = Pin("pydantic-settings==2.0.0 --hash=sha256:00")
    with pytest.raises(AssertionError, match="outside pydantic-settings>=2.3"):
        closure("worker", {**pins("worker"), "pydantic-settings": old})


@pytest.mark.parametrize("image", IMAGES)
def test_each_image_installs_the_versions_of_dev(image: str) -> None:
    dev = pins("dev")
    for name, pin in pins(image).items():
        assert name in dev and dev[name].version == pin.version, (
            f"requirements/{image}.lock: {name}=={pin.version}, dev.lock "
            f"{dev[name].version if name in dev else 'none'}: make lock"
        )


def test_the_worker_image_installs_no_platform_library() -> None:
    assert not {canonicalize_name(n) for n in PLATFORM_ONLY} & set(pins("worker"))


# --- what the code imports is in its image ---------------------------------------------------

FIRST_PARTY = {"jobrunner_shared": ROOT / "shared", **{
    f"jobrunner_{image}": ROOT / "services" / image for image in (*IMAGES, "cli")
}}


def module_file(name: str) -> Path | None:
    top, *rest = name.split(".")
    if top not in FIRST_PARTY:
        return None
    base = FIRST_PARTY[top].joinpath(top, *rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports(path: Path) -> set[str]:
    """The modules a file imports, but not under `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def third_party_imports(image: str) -> set[str]:
    """Top-level modules of other projects that the image's package may import, following
    its imports of jobrunner_shared (the worker only reaches the parts it imports)."""
    package = FIRST_PARTY[f"jobrunner_{image}"] / f"jobrunner_{image}"
    todo = list(package.rglob("*.py"))
    seen: set[Path] = set()
    outside: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imports(path):
            top = name.split(".")[0]
            if top in FIRST_PARTY:
                found = module_file(name)
                if found:
                    todo.append(found)
            elif top not in sys.stdlib_module_names:
                outside.add(top)
    return outside


@pytest.mark.parametrize("image", IMAGES)
def test_each_image_lock_holds_what_its_code_imports(image: str) -> None:
    providers = packages_distributions()
    locked = set(pins(image))
    for module in sorted(third_party_imports(image)):
        names = {canonicalize_name(d) for d in providers.get(module, [])}
        assert names, f"no installed distribution provides {module}"
        assert names & locked, (
            f"jobrunner_{image} imports {module} ({', '.join(sorted(names))}), which "
            f"requirements/{image}.lock does not install: add it to the pyproject, make lock"
        )
