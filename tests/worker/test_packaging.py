"""The worker installs alone: no FastAPI, Beanie, FastStream or cryptography on a worker host."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_ONLY = ("fastapi", "beanie", "faststream", "pymongo", "motor", "uvicorn", "cryptography")


def requirements(pyproject: Path) -> list[str]:
    return tomllib.loads(pyproject.read_text())["project"]["dependencies"]


def test_the_worker_and_shared_packages_require_no_platform_library() -> None:
    deps = requirements(ROOT / "services/worker/pyproject.toml") + requirements(
        ROOT / "shared/pyproject.toml"
    )
    assert "jobrunner-shared" in deps  # the bare package, without the [broker] extra
    for dep in deps:
        assert not dep.lower().startswith(PLATFORM_ONLY), dep


def test_running_the_worker_and_cli_imports_no_platform_library() -> None:
    probe = (
        "import sys, jobrunner_worker.main, jobrunner_worker.cli;"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {PLATFORM_ONLY!r}];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
