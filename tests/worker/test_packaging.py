"""The worker installs alone and small: no FastAPI, Beanie, FastStream or cryptography on a
worker host, and neither httpx nor the `jobrunner` CLI (that is services/cli)."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_ONLY = ("fastapi", "beanie", "faststream", "pymongo", "motor", "uvicorn", "cryptography")
NOT_ON_A_WORKER = (*PLATFORM_ONLY, "httpx", "typer", "click", "rich", "jobrunner-cli")


def project(pyproject: Path) -> dict:
    return tomllib.loads(pyproject.read_text())["project"]


def test_the_worker_and_shared_packages_require_no_platform_library_nor_the_cli() -> None:
    worker = project(ROOT / "services/worker/pyproject.toml")
    deps = worker["dependencies"] + project(ROOT / "shared/pyproject.toml")["dependencies"]
    assert "jobrunner-shared" in deps  # the bare package, without the [broker] extra
    for dep in deps:
        assert not dep.lower().startswith(NOT_ON_A_WORKER), dep
    assert worker["scripts"] == {"jobrunner-worker": "jobrunner_worker.main:main"}


def test_the_worker_package_holds_no_cli_module() -> None:
    modules = {p.stem for p in (ROOT / "services/worker/jobrunner_worker").glob("*.py")}
    assert not modules & {"cli", "cliconfig", "sse"}


def test_running_the_worker_imports_no_platform_library_nor_httpx() -> None:
    probe = (
        "import sys, jobrunner_worker.main, jobrunner_worker.health;"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {(*PLATFORM_ONLY, 'httpx')!r}];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
