"""The CLI installs alone: no jobrunner package, no platform library, no worker."""

import subprocess
import sys
import tomllib
from pathlib import Path

from jobrunner_cli.common import JobStatus
from jobrunner_shared.messages import JobStatus as SharedJobStatus

ROOT = Path(__file__).resolve().parents[2]


def test_the_cli_package_needs_no_other_jobrunner_package() -> None:
    project = tomllib.loads((ROOT / "services/cli/pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"jobrunner": "jobrunner_cli.app:main"}
    for dep in project["dependencies"]:
        assert not dep.lower().startswith(("jobrunner", "fastapi", "socketio", "python-socketio"))


def test_running_the_cli_imports_nothing_of_the_platform_or_the_worker() -> None:
    probe = (
        "import sys, jobrunner_cli.app;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('jobrunner_shared', 'jobrunner_worker', 'socketio', 'aiohttp', 'fastapi')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_statuses_the_cli_knows_are_the_platforms() -> None:
    assert [s.value for s in JobStatus] == [s.value for s in SharedJobStatus]
