"""One version for the whole platform: the VERSION file at the root of the repository.

Every Python package reads it when it is built (hatchling's version source) and reports it at
run time from its metadata: `jobrunner --version`, `jobrunner-worker --version` and the
`version` of `GET /healthz` on the API and the master. The dashboard's package.json carries it
too. A release changes VERSION (and package.json) and nothing else.
"""

import json
import os
import subprocess
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from packaging.version import Version

from tests.support.paths import ROOT
from tests.support.platform import BIN, Platform

VERSION_FILE = ROOT / "VERSION"
# Every Python package of the repository: its folder and its distribution name.
PACKAGES = {
    "shared": "jobrunner-shared",
    "services/api": "jobrunner-api",
    "services/master": "jobrunner-master",
    "services/worker": "jobrunner-worker",
    "services/cli": "jobrunner-cli",
}


def the_version() -> str:
    text = VERSION_FILE.read_text()
    assert text.strip() == text.rstrip("\n") and text.count("\n") <= 1, "one line, the version"
    return text.strip()


def test_the_version_file_holds_a_pep_440_version() -> None:
    assert str(Version(the_version())) == the_version()  # normalised: what pip will report


def test_the_packages_are_all_the_pyprojects_of_the_repository() -> None:
    found = {
        str(p.parent.relative_to(ROOT))
        for p in (*ROOT.glob("*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml"))
    }
    assert found == set(PACKAGES)


@pytest.mark.parametrize("folder", list(PACKAGES))
def test_each_pyproject_takes_its_version_from_the_version_file(folder: str) -> None:
    pyproject = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == PACKAGES[folder]
    assert "version" not in project, "no version of its own: it comes from VERSION"
    assert "version" in project["dynamic"]
    source = pyproject["tool"]["hatch"]["version"]
    assert source.get("source", "regex") == "regex"
    assert (ROOT / folder / source["path"]).resolve() == VERSION_FILE


@pytest.mark.parametrize("distribution", list(PACKAGES.values()))
def test_each_installed_package_reports_the_version(distribution: str) -> None:
    assert version(distribution) == the_version(), (
        f"{distribution} was installed from another VERSION: make install"
    )


def test_a_wheel_built_from_the_checkout_carries_the_version(tmp_path: Path) -> None:
    # What the images do (`pip install --no-deps /src/shared /src/services/worker`): a build
    # of the package folder, VERSION read from two levels up. Offline: hatchling is in the lock.
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--no-build-isolation", "--wheel-dir", str(tmp_path), str(ROOT / "services/worker")],
        check=True, capture_output=True, text=True, timeout=120,
    )
    (wheel,) = tmp_path.glob("jobrunner_worker-*.whl")
    assert wheel.name.startswith(f"jobrunner_worker-{the_version()}-")
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = archive.read(metadata).decode().split("\n\n", 1)[0].splitlines()
    assert f"Version: {the_version()}" in headers


@pytest.mark.parametrize(("script", "name"), [
    ("jobrunner", "jobrunner"), ("jobrunner-worker", "jobrunner-worker"),
])
def test_the_command_lines_print_the_version(script: str, name: str) -> None:
    result = subprocess.run(
        [str(BIN / script), "--version"], check=False, capture_output=True, text=True,
        timeout=60, env={"PATH": os.environ["PATH"]},  # no setting needed
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{name} {the_version()}\n"


def test_the_dashboard_package_carries_the_version() -> None:
    package = json.loads((ROOT / "frontend/package.json").read_text())
    assert package["version"] == the_version(), "set frontend/package.json's version to VERSION"


@pytest.mark.e2e
def test_the_api_and_the_master_report_the_version_on_healthz(platform: Platform) -> None:
    for url in (platform.api_url, platform.master_url):
        answer = httpx.get(f"{url}/healthz", timeout=10)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "version": the_version()}, url


@pytest.mark.e2e
def test_the_openapi_document_carries_the_version(platform: Platform) -> None:
    schema = httpx.get(f"{platform.api_url}/api/v1/openapi.json", timeout=10).json()
    assert schema["info"]["version"] == the_version()
